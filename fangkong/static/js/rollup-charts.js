/* Report roll-up: the 30-day completeness/timeliness trend and the children's late and missing
 * reports. Data and translated labels come from json_script islands (#rollup-chart,
 * #rollup-labels); unit names stay data, never markup. */
(function () {
  "use strict";

  function island(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function start() {
    var data = island("rollup-chart");
    var L = island("rollup-labels");
    var trendEl = document.getElementById("chart-trend");
    var barsEl = document.getElementById("chart-children");
    if (!window.echarts || !data || !L || !trendEl || !barsEl) return;

    var trend = echarts.init(trendEl);
    trend.setOption({
      title: { text: L.trend, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: [L.completeness, L.timeliness] },
      grid: { left: 40, right: 10, top: 40, bottom: 50 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: L.completeness, type: "line", data: data.completeness, smooth: true },
        { name: L.timeliness, type: "line", data: data.timeliness, smooth: true }
      ]
    });

    var bars = echarts.init(barsEl);
    bars.setOption({
      title: { text: L.children, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: [L.late, L.missing] },
      grid: { left: 40, right: 10, top: 40, bottom: 70 },
      xAxis: { type: "category", data: data.children, axisLabel: { rotate: 30, fontSize: 10 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.late, type: "bar", stack: "t", data: data.late, color: "#e6a23c" },
        { name: L.missing, type: "bar", stack: "t", data: data.missing, color: "#b3261e" }
      ]
    });

    window.addEventListener("resize", function () { trend.resize(); bars.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
