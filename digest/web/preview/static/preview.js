// The preview's only script: tabs, width and dark toggles, frame heights, live reload.
// The email frames are sandboxed without scripts; this runs in the preview page only.
(function () {
  "use strict";
  var body = document.body;
  var store = window.localStorage;

  // Tabs: the panel named in the URL's hash, else the first one.
  var tabs = Array.prototype.slice.call(document.querySelectorAll("[data-tab]"));
  var panels = Array.prototype.slice.call(document.querySelectorAll("[data-panel]"));
  function show(name) {
    if (!tabs.some(function (t) { return t.dataset.tab === name; })) name = tabs.length ? tabs[0].dataset.tab : "";
    tabs.forEach(function (t) { t.setAttribute("aria-selected", String(t.dataset.tab === name)); });
    panels.forEach(function (p) { p.hidden = p.dataset.panel !== name; });
    if (name === "email") fitAll();
  }
  tabs.forEach(function (tab) {
    tab.addEventListener("click", function (event) {
      event.preventDefault();
      history.replaceState(null, "", "#" + tab.dataset.tab);
      show(tab.dataset.tab);
    });
  });
  window.addEventListener("hashchange", function () { show(location.hash.slice(1)); });

  // Frames grow to the email's height so the page, not the frame, scrolls.
  var frames = Array.prototype.slice.call(document.querySelectorAll(".device iframe"));
  function fit(frame) {
    try {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = "0px";
        frame.style.height = Math.max(doc.documentElement.scrollHeight, 200) + "px";
      }
    } catch (e) { /* not readable: keep the default height */ }
  }
  function fitAll() { frames.forEach(fit); }
  frames.forEach(function (frame) {
    frame.addEventListener("load", function () { fit(frame); restoreScroll(); });
  });

  // Widths: both, desktop or phone; remembered between pages.
  var stage = document.getElementById("stage");
  var widthButtons = Array.prototype.slice.call(document.querySelectorAll("[data-width]")).filter(
    function (b) { return b.tagName === "BUTTON"; });
  function setWidth(mode) {
    if (!stage) return;
    stage.dataset.width = mode;
    widthButtons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.width === mode)); });
    store.setItem("preview.width", mode);
    fitAll();
  }
  widthButtons.forEach(function (b) { b.addEventListener("click", function () { setWidth(b.dataset.width); }); });
  setWidth(store.getItem("preview.width") || "both");

  // Dark background: the stage goes dark and the email's page background with it.
  var dark = document.getElementById("dark-toggle");
  function setDark(on) {
    if (!stage || !dark) return;
    dark.checked = on;
    stage.classList.toggle("dark", on);
    store.setItem("preview.dark", on ? "1" : "0");
    frames.forEach(function (frame) {
      var src = frame.dataset.src + (on ? "&dark=1" : "");
      if (frame.getAttribute("src") !== src) frame.setAttribute("src", src);
    });
  }
  if (dark) {
    dark.addEventListener("change", function () { setDark(dark.checked); });
    setDark(store.getItem("preview.dark") === "1");
  }

  // A form that takes a while (the Checks tab's button) says so while it runs.
  Array.prototype.slice.call(document.querySelectorAll("form[data-busy]")).forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button");
      if (button) { button.disabled = true; button.textContent = form.dataset.busy; }
    });
  });

  // Keep the reading position across a live reload.
  function restoreScroll() {
    var saved = sessionStorage.getItem("preview.scroll." + location.pathname);
    if (saved !== null && document.documentElement.scrollHeight >= Number(saved)) {
      window.scrollTo(0, Number(saved));
      sessionStorage.removeItem("preview.scroll." + location.pathname);
    }
  }
  if (tabs.length) show(location.hash.slice(1));
  restoreScroll();

  // Live reload: the server says "reload" once what this page was made from has changed.
  var live = document.getElementById("live");
  if (window.EventSource && body.dataset.scope) {
    var url = "/preview/events?scope=" + encodeURIComponent(body.dataset.scope) +
      "&v=" + encodeURIComponent(body.dataset.version);
    var source = new EventSource(url);
    source.onopen = function () { live.classList.add("on"); };
    source.onerror = function () { live.classList.remove("on"); };
    // A page that a form's answer is about to replace is not reloaded under it: the reload
    // would abort the post's navigation, and its answer (the test sent, all the checks'
    // findings) would never show.
    document.addEventListener("submit", function (event) {
      if (!event.defaultPrevented) { source.close(); live.classList.remove("on"); }
    });
    source.addEventListener("reload", function () {
      source.close();
      sessionStorage.setItem("preview.scroll." + location.pathname, String(window.scrollY));
      location.reload();
    });
  }
})();
