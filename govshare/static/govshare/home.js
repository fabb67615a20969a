// The home page's charts: each <canvas data-chart="ID" data-chart-type="bar|doughnut"> is drawn by the vendored
// Chart.js (static/vendor/chartjs) from the JSON of the <script type="application/json" id="ID"> the page renders
// with json_script ({labels: [...], values: [...]}). Static file: the Content-Security-Policy forbids inline scripts.
// The same figures are in a table beside each chart, so nothing is lost without JavaScript.
(function () {
  "use strict";

  var PALETTE = ["#1f5fa8", "#2e8b57", "#d08a00", "#c0392b", "#7d5ba6", "#16a2b8", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#98df8a", "#ff9896", "#c5b0d5"];

  // Review states in the colours of their badges elsewhere (app.css .status-*), when the data names them (keys).
  var STATE_COLOURS = { draft: "#8a94a6", submitted: "#d08a00", published: "#1a7f37", withdrawn: "#b42318" };

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var type = canvas.dataset.chartType === "doughnut" ? "doughnut" : "bar";
    var colours = data.labels.map(function (_, index) {
      var key = data.keys && data.keys[index];
      return STATE_COLOURS[key] || PALETTE[index % PALETTE.length];
    });
    var horizontal = type === "bar" && data.labels.length > 6;
    new window.Chart(canvas, {
      type: type,
      data: {
        labels: data.labels,
        datasets: [{ data: data.values, backgroundColor: type === "bar" ? PALETTE[0] : colours }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        plugins: { legend: { display: type === "doughnut", position: "bottom" } },
        scales: type === "bar" ? { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } } : {}
      }
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
}());
