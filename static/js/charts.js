// Tap (or click) a chart's point or bar to read its value under the chart: phones
// have no hover, so the SVG <title> tooltips never show there.
document.addEventListener("click", (event) => {
  const mark = event.target.closest("[data-value]");
  if (!mark) return;
  const readout = mark.closest("svg")?.nextElementSibling;
  if (readout && readout.classList.contains("readout")) readout.textContent = mark.dataset.value;
});
