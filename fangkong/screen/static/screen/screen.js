/* Big screen (电子大屏): draws the figures, keeps a live clock on server time, fetches fresh data
   every minute without a reload, rotates the education posts and reloads fully every 30 minutes. */
(function () {
  "use strict";

  var root = document.getElementById("screen");
  var L = JSON.parse(document.getElementById("screen-labels").textContent);
  var data = JSON.parse(document.getElementById("screen-data").textContent);
  var lang = document.documentElement.lang || "zh-CN";
  var tz = root.dataset.tz || "Asia/Shanghai";
  var offset = 0; // server clock minus this browser's clock, in ms
  var charts = {};
  var timers = [];
  var reloadTimer = null;
  var postIndex = 0;
  var postCount = 0;

  var fmtDate = new Intl.DateTimeFormat(lang, {
    timeZone: tz, year: "numeric", month: "long", day: "numeric", weekday: "long"
  });
  var fmtTime = new Intl.DateTimeFormat(lang, {
    timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });

  var C = {
    text: "#c9def5", muted: "#7f9bbd", grid: "rgba(120,170,230,0.14)", axis: "#3a5a80",
    completeness: "#36cfff", timeliness: "#5be49b", late: "#ffb74d", missing: "#ff5c5c"
  };

  function $(id) { return document.getElementById(id); }
  function setText(id, value) { var el = $(id); if (el) { el.textContent = value; } }
  function pct(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  function make(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (text !== undefined && text !== null) { el.textContent = text; }
    return el;
  }

  // --- clock ------------------------------------------------------------------------------
  function serverNow() { return new Date(Date.now() + offset); }
  function tick() {
    var now = serverNow();
    setText("sc-time", fmtTime.format(now));
    setText("sc-date", fmtDate.format(now));
  }

  // --- charts -----------------------------------------------------------------------------
  function baseOption() {
    return {
      backgroundColor: "transparent",
      animationDuration: 600,
      textStyle: { color: C.text, fontFamily: "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" },
      tooltip: { trigger: "axis", backgroundColor: "rgba(8,22,42,0.92)", borderColor: C.axis,
                 textStyle: { color: C.text } },
      legend: { top: 0, right: 8, textStyle: { color: C.text, fontSize: 15 }, itemWidth: 22, itemHeight: 10 }
    };
  }

  function trendOption(d) {
    var o = baseOption();
    o.grid = { left: 56, right: 24, top: 40, bottom: 34 };
    o.xAxis = { type: "category", boundaryGap: false, data: d.trend.days,
                axisLine: { lineStyle: { color: C.axis } },
                axisLabel: { color: C.muted, fontSize: 13, interval: 4 }, axisTick: { show: false } };
    o.yAxis = { type: "value", min: 0, max: 100, interval: 25,
                axisLabel: { color: C.muted, fontSize: 13, formatter: "{value}%" },
                splitLine: { lineStyle: { color: C.grid } } };
    o.tooltip.valueFormatter = function (v) { return pct(v); };
    o.series = [
      { name: L.completeness, type: "line", data: d.trend.completeness, smooth: 0.3, symbol: "circle",
        symbolSize: 6, color: C.completeness, lineStyle: { width: 3 },
        areaStyle: { color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [
          { offset: 0, color: "rgba(54,207,255,0.35)" }, { offset: 1, color: "rgba(54,207,255,0.02)" }]) } },
      { name: L.timeliness, type: "line", data: d.trend.timeliness, smooth: 0.3, symbol: "circle",
        symbolSize: 6, color: C.timeliness, lineStyle: { width: 3 } }
    ];
    return o;
  }

  function barsOption(d) {
    var o = baseOption();
    var many = d.children.names.length > 8;
    o.grid = { left: 8, right: 36, top: 40, bottom: 8, containLabel: true };
    o.tooltip.axisPointer = { type: "shadow" };
    o.yAxis = { type: "category", inverse: true, data: d.children.names,
                axisLine: { lineStyle: { color: C.axis } }, axisTick: { show: false },
                axisLabel: { color: C.text, fontSize: many ? 13 : 16, width: 170, overflow: "truncate" } };
    o.xAxis = { type: "value", minInterval: 1, axisLabel: { color: C.muted, fontSize: 13 },
                splitLine: { lineStyle: { color: C.grid } } };
    o.series = [
      { name: L.late, type: "bar", stack: "t", data: d.children.late, color: C.late,
        barMaxWidth: 26, itemStyle: { borderRadius: [0, 0, 0, 0] } },
      { name: L.missing, type: "bar", stack: "t", data: d.children.missing, color: C.missing,
        barMaxWidth: 26, itemStyle: { borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: "right", color: C.text, fontSize: 14,
                 formatter: function (p) {
                   var total = d.children.late[p.dataIndex] + d.children.missing[p.dataIndex];
                   return total ? String(total) : "";
                 } } }
    ];
    if (!d.children.names.length) {
      o.graphic = [{ type: "text", left: "center", top: "middle",
                     style: { text: L.no_children, fill: C.muted, fontSize: 18 } }];
    }
    return o;
  }

  function drawCharts(d) {
    if (typeof echarts === "undefined") { return; }
    if (!charts.trend) {
      charts.trend = echarts.init($("chart-trend"), null, { renderer: "canvas" });
      charts.children = echarts.init($("chart-children"), null, { renderer: "canvas" });
      // data-drawn lists the charts whose latest render (animation included) has finished.
      Object.keys(charts).forEach(function (name) {
        charts[name].on("finished", function () {
          var drawn = (root.dataset.drawn || "").split(" ").filter(Boolean);
          if (drawn.indexOf(name) < 0) { drawn.push(name); }
          root.dataset.drawn = drawn.join(" ");
        });
      });
    }
    root.dataset.drawn = "";
    charts.trend.setOption(trendOption(d), true);
    charts.children.setOption(barsOption(d), true);
  }

  // --- panels -----------------------------------------------------------------------------
  function drawFigures(d) {
    var box = $("figures");
    box.textContent = "";
    d.figures.forEach(function (f) {
      var tile = make("div", "fig" + (f.group ? " fig-" + f.group : ""));
      tile.dataset.key = f.key;
      tile.appendChild(make("div", "fig-label", f.label));
      var value = make("div", "fig-value" + (f.reported ? " nonzero" : ""), String(f.reported));
      tile.appendChild(value);
      tile.appendChild(make("div", "fig-derived", L.derived + " " + f.derived));
      box.appendChild(tile);
    });
    setText("c-staff", d.checkins.staff);
    setText("c-family", d.checkins.family);
    setText("c-units", d.reported_units);
  }

  function drawOverdue(d) {
    var list = $("overdue-list");
    list.textContent = "";
    setText("overdue-total", d.overdue.total);
    $("overdue-total").classList.toggle("zero", !d.overdue.total);
    if (!d.overdue.units.length) {
      list.appendChild(make("li", "none", L.none_overdue));
    }
    d.overdue.units.forEach(function (u) {
      var li = make("li", "st-" + u.status);
      var name = make("span", "name", u.name);
      if (u.branch) { name.appendChild(make("small", null, u.branch)); }
      li.appendChild(name);
      li.appendChild(make("span", "tag", u.label));
      list.appendChild(li);
    });
    var hidden = d.overdue.total - d.overdue.units.length;
    setText("overdue-more", hidden > 0 ? fill(L.more, { n: hidden }) : "");
    list.scrollTop = 0;
  }

  function drawPosts(d) {
    var box = $("posts");
    var dots = $("post-dots");
    box.textContent = "";
    dots.textContent = "";
    postCount = d.posts.length;
    if (!postCount) {
      box.appendChild(make("div", "post on empty", L.no_posts));
      return;
    }
    d.posts.forEach(function (p, i) {
      var art = make("article", "post");
      art.appendChild(make("h3", null, p.title));
      art.appendChild(make("p", null, p.body));
      if (p.source) { art.appendChild(make("div", "source", p.source)); }
      box.appendChild(art);
      dots.appendChild(make("i"));
    });
    postIndex = postIndex % postCount;
    showPost(postIndex);
    Array.prototype.forEach.call(box.children, fitPost);
  }

  // A long post (up to 300 characters) shrinks its text until it fits the panel.
  function fitPost(art) {
    var p = art.querySelector("p");
    if (!p) { return; }
    p.style.fontSize = "";
    var size = parseFloat(getComputedStyle(p).fontSize);
    var floor = size * 0.6;
    while (art.scrollHeight > art.clientHeight + 1 && size > floor) {
      size -= 1;
      p.style.fontSize = size + "px";
    }
  }

  function showPost(i) {
    var posts = $("posts").children;
    var dots = $("post-dots").children;
    for (var k = 0; k < posts.length; k++) {
      posts[k].classList.toggle("on", k === i);
      if (dots[k]) { dots[k].classList.toggle("on", k === i); }
    }
  }

  function rotatePosts() {
    if (postCount > 1) {
      postIndex = (postIndex + 1) % postCount;
      showPost(postIndex);
    }
  }

  function scrollOverdue() {
    var list = $("overdue-list");
    if (list.scrollHeight <= list.clientHeight + 2) { return; }
    var step = list.firstElementChild ? list.firstElementChild.offsetHeight : 40;
    if (list.scrollTop + list.clientHeight >= list.scrollHeight - 2) {
      list.scrollTo({ top: 0, behavior: "smooth" });
    } else {
      list.scrollTo({ top: list.scrollTop + step, behavior: "smooth" });
    }
  }

  function render(d) {
    offset = Date.parse(d.now) - Date.now();
    tick();
    setText("sc-node", d.node.name);
    setText("sc-form", d.form.name);
    setText("k-expected", d.stats.expected);
    setText("k-received", d.stats.received);
    setText("k-zero", d.stats.zero);
    setText("k-late", d.stats.late);
    setText("k-missing", d.stats.missing);
    setText("k-completeness", pct(d.stats.completeness));
    setText("k-timeliness", pct(d.stats.timeliness));
    drawFigures(d);
    drawOverdue(d);
    drawPosts(d);
    drawCharts(d);
    setText("sc-updated", fill(L.updated, { t: fmtTime.format(new Date(Date.parse(d.now))) }));
    root.dataset.updated = d.now;
  }

  // --- refresh ----------------------------------------------------------------------------
  function gone() {
    timers.forEach(function (t) { clearInterval(t); });
    clearTimeout(reloadTimer);
    var box = $("sc-gone");
    box.textContent = L.gone;
    box.hidden = false;
  }

  function refresh() {
    fetch(root.dataset.url, { credentials: "same-origin", cache: "no-store",
                              headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 404) { gone(); return null; }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (d) {
        if (!d) { return; }
        data = d;
        render(d);
        setText("sc-status", "");
        root.classList.remove("offline");
      })
      .catch(function () {
        setText("sc-status", fill(L.offline, { t: fmtTime.format(new Date(Date.parse(data.now))) }));
        root.classList.add("offline");
      });
  }

  function start() {
    render(data);
    timers.push(setInterval(tick, 1000));
    timers.push(setInterval(refresh, parseInt(root.dataset.refresh, 10) || 60000));
    timers.push(setInterval(rotatePosts, parseInt(root.dataset.rotate, 10) || 10000));
    timers.push(setInterval(scrollOverdue, 3000));
    reloadTimer = setTimeout(function () { window.location.reload(); }, parseInt(root.dataset.reload, 10) || 1800000);
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
      Array.prototype.forEach.call($("posts").children, fitPost);
    });
    window.fangkongScreen = { refresh: refresh, charts: charts, rotate: rotatePosts };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
