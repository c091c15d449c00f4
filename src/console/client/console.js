// The console's only script: copy buttons and the charts. Every page works without it; a chart is drawn from
// the data table beside it (the table is the data: nothing is embedded twice), and the table stays.
/* global uPlot */

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
  // Tables list the newest first; the plot wants x ascending.
  const rows = [...table.querySelectorAll("tbody tr")].sort((a, b) => Number(a.dataset.t) - Number(b.dataset.t));
  const x = rows.map((tr) => Number(tr.dataset.t));
  const series = names.map((_, i) =>
    rows.map((tr) => Number(tr.children[i + 1]?.textContent.replaceAll(",", "") || 0)),
  );
  return { names, data: [x, ...series] };
}

/** Each series stacked on the ones before it (bars), so every outcome shows and the top is the total. */
function stacked(data) {
  const out = [data[0]];
  let below = data[0].map(() => 0);
  for (const series of data.slice(1)) {
    below = series.map((v, i) => v + below[i]);
    out.push(below);
  }
  return out;
}

function drawChart(figure) {
  const table = figure.querySelector(".chart-data table");
  const target = figure.querySelector(".chart-plot");
  if (!table || !target || typeof uPlot === "undefined") return;
  const { names, data } = readTable(table);
  if (data[0].length === 0) return;
  const bars = figure.dataset.kind === "bars";
  const time = figure.dataset.time !== "false";
  const labelOf = new Map(
    [...table.querySelectorAll("tbody tr")].map((tr) => [
      Number(tr.dataset.t),
      tr.firstElementChild.textContent.trim(),
    ]),
  );
  const color = (i) => PALETTE[i % PALETTE.length];
  // Stacked bars are drawn tallest first, so each shorter one lands on top of it and stays visible.
  const order = names.map((_, i) => i).reverse();
  const values = bars ? stacked(data) : data;
  const width = () => Math.max(240, target.clientWidth);
  const xAxis = { stroke: "#64748b", grid: { stroke: "#e2e8f0" } };
  if (!time) {
    xAxis.splits = () => data[0];
    xAxis.values = (_, splits) => splits.map((x) => labelOf.get(x) ?? "");
  }
  const options = {
    width: width(),
    height: 220,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: time ? { time: true } : { time: false, range: [data[0][0] - 0.5, data[0][data[0].length - 1] + 0.5] },
    },
    axes: [xAxis, { stroke: "#64748b", grid: { stroke: "#e2e8f0" } }],
    series: [
      {},
      ...order.map((i) => ({
        label: names[i],
        stroke: color(i),
        fill: bars ? color(i) : `${color(i)}1a`,
        width: bars ? 0 : 2,
        paths: bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
        points: { show: false },
      })),
    ],
  };
  target.textContent = "";
  const plot = new uPlot(options, [values[0], ...order.map((i) => values[i + 1])], target);
  figure.classList.add("chart-drawn");
  new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(target);
}

copyButtons();
for (const figure of document.querySelectorAll("figure.chart")) drawChart(figure);
