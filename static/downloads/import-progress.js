// Keeps an import's progress current while it runs (templates/downloads/_import_progress.html):
// polls the page's JSON status every 2 s, updates the bar and the text (an aria-live region),
// and reloads the page once the import has finished so it shows the release or the error.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !box.dataset.statusUrl || box.dataset.finished === "true") return;
  var bar = document.getElementById("import-progress-bar");
  var text = document.getElementById("import-progress-text");
  var file = document.getElementById("import-progress-file");
  var status = document.getElementById("import-status");

  function show(s) {
    bar.max = Math.max(1, s.bytes_total);
    bar.value = s.bytes_done;
    bar.textContent = s.percent + "%";
    if (text.textContent !== s.text) text.textContent = s.text;
    if (file) {
      file.hidden = !s.current_file;
      var name = file.querySelector(".mono");
      if (name) name.textContent = s.current_file;
    }
    if (status) status.textContent = s.status_display;
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (s) {
        if (s) {
          show(s);
          if (s.finished) { window.location.reload(); return; }
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
