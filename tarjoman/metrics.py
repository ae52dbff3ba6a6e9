"""How far translators moved from the machine drafts: chrF, TER and BLEU (sacrebleu).

Scores compare each recorded machine draft (the hypothesis) with the approved
translation (the reference); high chrF and BLEU and low TER mean the drafts
were useful. Every score carries sacrebleu's signature.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PostEditScore:
    segments: int
    chrf: float
    ter: float
    bleu: float
    signatures: dict[str, str]


def post_edit_score(drafts: list[str], approved: list[str]) -> PostEditScore:
    from sacrebleu.metrics import BLEU, CHRF, TER

    bleu, chrf, ter = BLEU(tokenize="intl", effective_order=True), CHRF(), TER()
    refs = [approved]
    scores = {name: metric.corpus_score(drafts, refs) for name, metric in (("bleu", bleu), ("chrf", chrf), ("ter", ter))}
    return PostEditScore(
        segments=len(drafts),
        chrf=round(scores["chrf"].score, 2),
        ter=round(scores["ter"].score, 2),
        bleu=round(scores["bleu"].score, 2),
        signatures={"chrf": str(chrf.get_signature()), "ter": str(ter.get_signature()), "bleu": str(bleu.get_signature())},
    )


def chart_png(rows: list[dict], path) -> None:
    """A bar chart of chrF per chapter and language, for the publisher."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chapters = sorted({r["chapter"] for r in rows})
    langs = sorted({r["lang"] for r in rows})
    width = 0.8 / max(1, len(langs))
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(chapters) + 2), 3.5), dpi=100)
    for i, lang in enumerate(langs):
        values = [next((r["chrf"] for r in rows if r["chapter"] == c and r["lang"] == lang), 0) for c in chapters]
        ax.bar([x + i * width for x in range(len(chapters))], values, width, label=lang)
    ax.set_xticks([x + width * (len(langs) - 1) / 2 for x in range(len(chapters))], chapters)
    ax.set_ylim(0, 100)
    ax.set_ylabel("chrF, draft vs approved")
    ax.set_title("How much of each machine draft translators kept")
    ax.legend(ncol=len(langs), fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
