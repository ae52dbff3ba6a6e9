// Tarjoman desk: the keyboard and saving on the chapter page; CSRF for htmx everywhere.
// No build step: this file is served as it is.
(function () {
  "use strict";
  const csrf = () => document.body.dataset.csrf || "";

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  document.addEventListener("DOMContentLoaded", () => {
    const select = document.getElementById("chapter-select");
    if (select) {
      select.addEventListener("change", () => {
        window.location = select.dataset.base + encodeURIComponent(select.value) + "/" + select.dataset.lang;
      });
    }
    const chapter = document.getElementById("chapter");
    if (chapter) setUpChapter(chapter);
  });

  function setUpChapter(chapter) {
    const book = chapter.dataset.book, lang = chapter.dataset.lang;
    const editable = chapter.dataset.editable === "1";
    const segs = () => Array.from(chapter.querySelectorAll(".seg"));
    const AUTOSAVE_MS = 1200;

    function segOf(node) { return node.closest(".seg"); }
    function field(seg) { return seg.querySelector("textarea.text"); }
    function say(seg, text) { seg.querySelector(".saved").textContent = text; }
    function showError(seg, text) {
      const p = seg.querySelector("p.error");
      p.textContent = text || "";
      p.hidden = !text;
    }

    function focusSeg(seg) {
      if (!seg) return;
      segs().forEach((s) => s.classList.remove("current"));
      seg.classList.add("current");
      const f = field(seg);
      f.focus({ preventScroll: true });
      seg.scrollIntoView({ block: "center" });
    }

    // A long chapter arrives in slices: the next one is fetched when its placeholder comes into
    // view, or when the keyboard moves past the last sentence loaded.
    let loading = null;
    function loadMore() {
      if (loading) return loading;
      const more = chapter.querySelector(".more[data-url]");
      if (!more) return Promise.resolve(false);
      loading = fetch(more.dataset.url, { credentials: "same-origin" }).then(async (response) => {
        if (!response.ok) { more.textContent = "The next sentences could not be loaded (" + response.status + "); reload the page."; return false; }
        const html = await response.text();
        const holder = document.createElement("div");
        holder.innerHTML = html;
        const nodes = Array.from(holder.children);
        more.replaceWith(...nodes);
        nodes.forEach((node) => { if (window.htmx) window.htmx.process(node); });
        watchMore();
        return true;
      }).finally(() => { loading = null; });
      return loading;
    }
    const watcher = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    }, { rootMargin: "1500px 0px" }) : null;
    function watchMore() {
      const more = chapter.querySelector(".more[data-url]");
      if (more && watcher) watcher.observe(more);
    }
    watchMore();

    async function nextNeedingWork(from) {
      for (;;) {
        const all = segs();
        const found = all.slice(all.indexOf(from) + 1).find((s) => s.dataset.state !== "approved");
        if (found) return found;
        if (!(await loadMore())) break;
      }
      return segs().find((s) => s !== from && s.dataset.state !== "approved") || null;  // from the top
    }

    async function byId(uid) {
      for (;;) {
        const found = document.getElementById("seg-" + uid);
        if (found) return found;
        if (!(await loadMore())) return null;
      }
    }

    function setState(seg, state, version, who, label) {
      seg.dataset.state = state;
      seg.dataset.version = String(version);
      seg.classList.remove("state-empty", "state-draft", "state-approved");
      seg.classList.add("state-" + state);
      seg.querySelector(".meta .state").textContent = label || (state === "draft" ? "edited" : state);
      if (who !== undefined) seg.querySelector(".meta .who").textContent = who;
    }

    // One save in flight per sentence; a later one waits for it (its base version comes from it).
    async function save(seg, state, options) {
      options = options || {};
      if (seg.dataset.conflict) return false;  // settle the conflict first: nothing is saved over it
      const f = field(seg);
      if (state === "draft" && !seg.classList.contains("dirty")) return true;
      if (seg._saving) { await seg._saving; }
      if (seg.dataset.conflict) return false;
      const text = f.value;
      const body = JSON.stringify({ text: text, state: state, base_version: Number(seg.dataset.version) });
      const url = "/api/books/" + encodeURIComponent(book) + "/segments/" + encodeURIComponent(seg.dataset.uid) + "/" + encodeURIComponent(lang);
      const request = fetch(url, {
        method: "PUT", credentials: "same-origin", keepalive: !!options.leaving,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: body,
      });
      let done;
      seg._saving = new Promise((resolve) => { done = resolve; });
      try {
        const response = await request;
        const answer = await response.json().catch(() => ({}));
        if (response.ok) {
          if (f.value === text) seg.classList.remove("dirty");
          setState(seg, answer.state, answer.version, answer.changed_by);
          showError(seg, "");
          say(seg, state === "approved" ? "approved ✓" : "saved ✓");
          return true;
        }
        if (response.status === 409) { showConflict(seg, answer); return false; }
        if (response.status === 401) { showError(seg, "Your session ended: log in again in another tab; your text is still here."); return false; }
        showError(seg, answer.detail || ("not saved: " + response.status));
        return false;
      } catch (err) {
        showError(seg, "not saved (" + err + "); it will be tried again");
        return false;
      } finally {
        done();
        seg._saving = null;
      }
    }

    function showConflict(seg, answer) {
      const box = seg.querySelector(".conflict");
      seg.dataset.conflict = String(answer.conflict_id || "");
      box.replaceChildren();
      const head = document.createElement("p");
      head.textContent = answer.detail + ". Nothing was overwritten; choose which text stands:";
      const theirs = document.createElement("p");
      theirs.className = "theirs";
      theirs.dir = field(seg).dir; theirs.lang = lang;
      theirs.textContent = answer.current.text;
      const mine = document.createElement("p");
      mine.className = "mine";
      mine.dir = field(seg).dir; mine.lang = lang;
      mine.textContent = answer.yours.text;
      const keep = document.createElement("button");
      keep.type = "button"; keep.className = "take-theirs"; keep.textContent = "Keep theirs";
      const take = document.createElement("button");
      take.type = "button"; take.className = "take-mine"; take.textContent = "Use mine";
      const label1 = document.createElement("strong"); label1.textContent = "Theirs (" + (answer.current.changed_by || "someone") + "): ";
      const label2 = document.createElement("strong"); label2.textContent = "Yours: ";
      theirs.prepend(label1); mine.prepend(label2);
      box.append(head, theirs, mine, keep, take);
      box.hidden = false;
      keep.addEventListener("click", () => resolve(seg, "store", answer));
      take.addEventListener("click", () => resolve(seg, "theirs", answer));
    }

    async function resolve(seg, take, answer) {
      const url = "/api/books/" + encodeURIComponent(book) + "/conflicts/" + encodeURIComponent(seg.dataset.conflict);
      const response = await fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify({ take: take }),
      });
      const now = await response.json().catch(() => ({}));
      if (!response.ok) { showError(seg, now.detail || "the conflict could not be settled"); return; }
      delete seg.dataset.conflict;
      seg.querySelector(".conflict").hidden = true;
      field(seg).value = now.text;
      seg.classList.remove("dirty");
      setState(seg, now.state, now.version, now.changed_by);
      say(seg, take === "store" ? "kept theirs" : "yours stands");
    }

    // Links to a sentence not loaded yet (a footnote, a conflict) load the slices up to it.
    document.addEventListener("click", async (event) => {
      const link = event.target.closest && event.target.closest('a[href^="#seg-"]');
      if (!link) return;
      event.preventDefault();
      const found = await byId(link.getAttribute("href").slice(5));
      if (found) { history.replaceState(null, "", link.getAttribute("href")); focusSeg(found); }
    });

    if (!editable) return;

    chapter.addEventListener("input", (event) => {
      const seg = segOf(event.target);
      if (!seg || !event.target.matches("textarea.text")) return;
      seg.classList.add("dirty");
      say(seg, "");
      clearTimeout(seg._timer);
      seg._timer = setTimeout(() => save(seg, "draft"), AUTOSAVE_MS);
    });

    chapter.addEventListener("focusin", (event) => {
      const seg = segOf(event.target);
      if (seg && event.target.matches("textarea.text")) {
        segs().forEach((s) => s !== seg && s.classList.remove("current"));
        seg.classList.add("current");
      }
    });

    chapter.addEventListener("focusout", (event) => {
      const seg = segOf(event.target);
      if (seg && event.target.matches("textarea.text") && seg.classList.contains("dirty")) {
        clearTimeout(seg._timer);
        save(seg, "draft");
      }
    });

    function copyMachine(seg) {
      const machine = seg.querySelector(".machine-text");
      if (!machine) return;
      const f = field(seg);
      f.value = machine.textContent;
      f.dispatchEvent(new Event("input", { bubbles: true }));
      f.focus();
    }
    function useMatch(seg, button) {
      const f = field(seg);
      f.value = button.closest(".match").querySelector(".match-text").textContent;
      f.dispatchEvent(new Event("input", { bubbles: true }));
      f.focus();
    }
    function copySource(seg) {
      const f = field(seg);
      f.value = seg.querySelector(".source").innerText.trim();
      f.dispatchEvent(new Event("input", { bubbles: true }));
      f.focus();
    }
    async function approve(seg) {
      clearTimeout(seg._timer);
      if (await save(seg, "approved")) focusSeg(await nextNeedingWork(seg));
    }

    chapter.addEventListener("click", (event) => {
      const seg = segOf(event.target);
      if (!seg) return;
      if (event.target.matches("button.copy-machine")) copyMachine(seg);
      else if (event.target.matches("button.copy-source")) copySource(seg);
      else if (event.target.matches("button.use-match")) useMatch(seg, event.target);
      else if (event.target.matches("button.save")) { clearTimeout(seg._timer); seg.classList.add("dirty"); save(seg, "draft"); }
      else if (event.target.matches("button.approve")) approve(seg);
    });

    chapter.addEventListener("keydown", (event) => {
      const seg = segOf(event.target);
      if (!seg || !event.target.matches("textarea.text")) return;
      const key = event.key;
      if ((event.ctrlKey || event.metaKey) && key === "Enter") { event.preventDefault(); approve(seg); }
      else if ((event.ctrlKey || event.metaKey) && (key === "s" || key === "S")) { event.preventDefault(); clearTimeout(seg._timer); save(seg, "draft"); }
      else if (event.altKey && key === "ArrowDown") { event.preventDefault(); neighbour(seg, 1).then(focusSeg); }
      else if (event.altKey && key === "ArrowUp") { event.preventDefault(); neighbour(seg, -1).then(focusSeg); }
      else if (event.altKey && (key === "m" || key === "M")) { event.preventDefault(); copyMachine(seg); }
      else if (event.altKey && (key === "s" || key === "S")) { event.preventDefault(); copySource(seg); }
    });

    async function neighbour(seg, step) {
      for (;;) {
        const all = segs();
        const found = all[all.indexOf(seg) + step];
        if (found || step < 0) return found || null;
        if (!(await loadMore())) return null;
      }
    }


    // A reload or a closed tab keeps what was typed: pending edits go out as unapproved saves.
    window.addEventListener("pagehide", () => {
      chapter.querySelectorAll(".seg.dirty").forEach((seg) => { clearTimeout(seg._timer); save(seg, "draft", { leaving: true }); });
    });

    (async () => {
      const hash = window.location.hash;
      let first = hash.startsWith("#seg-") ? await byId(hash.slice(5)) : null;
      if (!first) {
        first = segs().find((s) => s.dataset.state !== "approved");
        while (!first && (await loadMore())) first = segs().find((s) => s.dataset.state !== "approved");
      }
      if (first) focusSeg(first);
    })();
  }
})();
