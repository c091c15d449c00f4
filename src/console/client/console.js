// The console's only script: copy buttons and the charts. Every page works without it; a chart is drawn from
// the data table beside it (the table is the data: nothing is embedded twice), and the table stays.
/* global uPlot */
"use strict";

const PALETTE = ["#2563eb", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569"];

function copyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        // No clipboard access (an insecure context, a denied permission): select the text for a manual copy.
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Press Ctrl+C to copy";
      }
    });
  }
}

/** The series of a chart's table: x from each row's data-t (epoch seconds), one series per numeric column. */
function readTable(table) {
  const names = [...table.querySelectorAll("thead th")].slice(1).map((th) => th.textContent.trim());
  const rows = [...table.querySelectorAll("tbody tr")];
  const x = rows.map((tr) => Number(tr.dataset.t));
  const series = names.map((_, i) => rows.map((tr) => Number(tr.children[i + 1]?.textContent.replaceAll(",", "") || 0)));
  return { names, data: [x, ...series] };
}

function drawChart(figure) {
  const table = figure.querySelector("table");
  const target = figure.querySelector(".chart-plot");
  if (!table || !target || typeof uPlot === "undefined") return;
  const { names, data } = readTable(table);
  if (data[0].length === 0) return;
  const bars = figure.dataset.kind === "bars";
  const width = () => Math.max(240, target.clientWidth);
  const options = {
    width: width(),
    height: 220,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: figure.dataset.time !== "false" } },
    axes: [{ stroke: "#64748b", grid: { stroke: "#e2e8f0" } }, { stroke: "#64748b", grid: { stroke: "#e2e8f0" } }],
    series: [
      {},
      ...names.map((label, i) => ({
        label,
        stroke: PALETTE[i % PALETTE.length],
        fill: bars ? `${PALETTE[i % PALETTE.length]}cc` : `${PALETTE[i % PALETTE.length]}1a`,
        width: bars ? 0 : 2,
        paths: bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
        points: { show: false },
      })),
    ],
  };
  target.textContent = "";
  const plot = new uPlot(options, data, target);
  figure.classList.add("chart-drawn");
  new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(target);
}

copyButtons();
for (const figure of document.querySelectorAll("figure.chart")) drawChart(figure);
