// Tell the server the survey page was seen by a person's browser (a GET records
// nothing, because mail scanners prefetch links). Best effort: failures are ignored.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.survey[data-opened-url]");
  if (!form || !window.fetch) return;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  fetch(form.dataset.openedUrl, {
    method: "POST",
    headers: {"X-CSRFToken": csrf ? csrf.value : ""},
    credentials: "same-origin",
  }).catch(function () {});
});
