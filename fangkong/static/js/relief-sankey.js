/* Relief audit: ECharts Sankey of money (values in fen) or goods (pieces).
 *
 * <div data-sankey data-url="…json" [data-island="id of a json_script"]> draws the island's data
 * at once, or fetches the URL; the buttons [data-measure] in the same section switch between
 * money and goods by fetching `url?measure=…`. Labels and messages come from data-* attributes
 * so the page's language is used.
 */
(function () {
  "use strict";

  function formatValue(value, data, el) {
    if (data.measure === "money") {
      var yuan = value / 100;
      return yuan.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) +
        " " + (el.dataset.unitMoney || "元");
    }
    return Math.round(value).toLocaleString("zh-CN") + " " + (el.dataset.unitGoods || "件");
  }

  function message(el, text) {
    var chart = window.echarts && echarts.getInstanceByDom(el);
    if (chart) chart.dispose();
    el.textContent = "";
    var p = document.createElement("p");
    p.className = "muted small sankey-message";
    p.textContent = text;
    el.appendChild(p);
    el.style.height = "auto";
  }

  function draw(el, data) {
    if (!data || !data.links || !data.links.length) {
      message(el, el.dataset.empty || "");
      return;
    }
    var narrow = el.clientWidth < 560;
    // Tall enough that every node gets a readable band.
    var height = Math.max(320, Math.min(1400, data.nodes.length * (narrow ? 30 : 26)));
    el.style.height = height + "px";
    var chart = echarts.getInstanceByDom(el);
    if (!chart) {
      el.textContent = "";
      chart = echarts.init(el, null, { renderer: "canvas" });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: "item",
        confine: true,
        // The tooltip is HTML: party and item names come from imported ledgers, so escape them.
        formatter: function (p) {
          var esc = echarts.format.encodeHTML;
          if (p.dataType === "edge") {
            return esc(p.data.source) + " → " + esc(p.data.target) + "<br>" +
              esc(formatValue(p.data.value, data, el));
          }
          return esc(p.name) + "<br>" + esc(formatValue(p.value, data, el));
        }
      },
      series: [{
        type: "sankey",
        left: 4, right: narrow ? 84 : 150, top: 8, bottom: 8,
        nodeGap: narrow ? 12 : 10,
        nodeWidth: narrow ? 12 : 20,
        nodeAlign: "justify",
        draggable: false,
        emphasis: { focus: "adjacency" },
        label: { fontSize: narrow ? 10 : 12, width: narrow ? 78 : 140, overflow: "truncate" },
        lineStyle: { color: "gradient", opacity: 0.35 },
        data: data.nodes,
        links: data.links
      }]
    }, true);
  }

  function load(el, measure) {
    var url = el.dataset.url + (measure ? "?measure=" + encodeURIComponent(measure) : "");
    el.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (data) { draw(el, data); sync(el, data); })
      .catch(function () { message(el, el.dataset.error || "Error"); })
      .then(function () { el.removeAttribute("aria-busy"); });
  }

  function sync(el, data) {
    var box = el.closest("section") || document;
    box.querySelectorAll("[data-measure]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.measure === data.measure ? "true" : "false");
      if (data.measures) b.disabled = data.measures.indexOf(b.dataset.measure) < 0;
    });
  }

  function init(el) {
    var island = el.dataset.island && document.getElementById(el.dataset.island);
    if (island) {
      var data = JSON.parse(island.textContent);
      draw(el, data);
      sync(el, data);
    } else {
      load(el, el.dataset.measure || "");
    }
    var box = el.closest("section") || document;
    box.querySelectorAll("button[data-measure]").forEach(function (b) {
      b.addEventListener("click", function () { load(el, b.dataset.measure); });
    });
  }

  function start() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-sankey]").forEach(init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
