// Small behaviours of the owner pages, by data attribute (the Content-Security-Policy
// allows no inline script, so no onclick= or onchange= in the templates).

// <form data-confirm="Delete this segment?">: ask before it is sent.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset?.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

document.addEventListener("change", (event) => {
  const field = event.target;
  // <select data-autosubmit>: choosing an option sends its form.
  if (field.matches("[data-autosubmit]")) field.form?.requestSubmit();
  // <input type="checkbox" data-tick-all="selector">: ticks or unticks those boxes.
  if (field.matches("[data-tick-all]")) {
    document.querySelectorAll(field.dataset.tickAll).forEach((box) => {
      box.checked = field.checked;
    });
  }
});
