/* 统计看板: ECharts (bundled, SVG renderer) over the data the page embeds as JSON. */
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || !window.echarts) { return; }
  var D = JSON.parse(node.textContent);
  if (!D.reports) { return; }
  var FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';
  var PART_COLORS = { achievements: "#2e7d32", shortcomings: "#b75d00", leader_duty: "#1e5aa8", next_year: "#7b3fa0", all: "#9b1c1c" };
  var STATUS_COLORS = { on_time: "#2e7d32", premature: "#1565c0", late: "#c62828" };
  var charts = [];
  // tooltips are HTML: everything that comes from a report is escaped
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function make(id, option, onClick) {
    var dom = document.getElementById(id);
    if (!dom) { return null; }
    var c = echarts.init(dom, null, { renderer: "svg" });
    option.textStyle = { fontFamily: FONT };
    option.animation = false;
    c.setOption(option);
    if (onClick) { c.on("click", onClick); }
    dom.setAttribute("data-rendered", "1");
    charts.push(c);
    return c;
  }

  function pct(v) { return v === null || v === undefined ? "—" : v + "%"; }

  // 1. statutory parts by level
  make("chart-parts", {
    tooltip: { trigger: "axis", valueFormatter: pct },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 56, bottom: 40 },
    xAxis: { type: "category", data: D.parts.levels.map(function (l, i) { return l + "\n(" + D.parts.reports[i] + "份)"; }) },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: D.parts.series.map(function (s) {
      return { type: "bar", name: s.label, data: s.data, itemStyle: { color: PART_COLORS[s.part] }, barMaxWidth: 22 };
    })
  });

  // 2. timeliness by month of publication
  make("chart-timeliness", {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 40, bottom: 56 },
    xAxis: { type: "category", data: D.timeliness.months, axisLabel: { rotate: 35 } },
    yAxis: { type: "value", minInterval: 1, name: "份" },
    series: D.timeliness.series.map(function (s) {
      return { type: "bar", stack: "t", name: s.label, data: s.data, itemStyle: { color: STATUS_COLORS[s.status] }, barMaxWidth: 36 };
    })
  });

  // 3. indicator across units
  var indChart = null;
  function indicatorOption(I) {
    var units = I.units.slice().reverse(), vals = I.values.slice().reverse(), shown = I.display.slice().reverse();
    return {
      tooltip: { trigger: "item", formatter: function (p) { return esc(p.name) + "<br>" + esc(shown[p.dataIndex]) + " " + esc(I.unit); } },
      grid: { left: 8, right: 70, top: 28, bottom: 16, containLabel: true },
      title: { text: I.label + (I.unit ? "（" + I.unit + "）" : "") + "：" + I.total + " 份报告写明" + (I.total > I.units.length ? "，显示前 " + I.units.length : ""),
               textStyle: { fontSize: 13, fontWeight: "normal", color: "#6b7785" }, left: 0, top: 0 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: units, axisLabel: { width: 220, overflow: "truncate" } },
      series: [{ type: "bar", data: vals, itemStyle: { color: "#1565c0" }, barMaxWidth: 18,
                 label: { show: true, position: "right", formatter: function (p) { return shown[p.dataIndex]; } } }]
    };
  }
  function sizeIndicator(I) {
    var dom = document.getElementById("chart-indicator");
    if (dom) { dom.style.height = Math.max(220, 70 + I.units.length * 26) + "px"; }
    if (indChart) { indChart.resize(); }
  }
  if (D.indicator) {
    var ids = D.indicator.report_ids.slice().reverse();
    sizeIndicator(D.indicator);
    indChart = make("chart-indicator", indicatorOption(D.indicator), function (p) {
      if (ids[p.dataIndex]) { window.location.href = "/reports/" + ids[p.dataIndex]; }
    });
    var pick = document.getElementById("indicator-pick");
    if (pick) {
      pick.addEventListener("change", function () {
        var q = new URLSearchParams({ indicator: pick.value });
        if (D.filters.year) { q.set("year", D.filters.year); }
        if (D.filters.level) { q.set("level", D.filters.level); }
        fetch("/api/stats/indicator?" + q.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (I) {
            ids = I.report_ids.slice().reverse();
            sizeIndicator(I);
            indChart.setOption(indicatorOption(I), true);
          })
          .catch(function () { window.alert("无法加载该指标的数据"); });
      });
    }
  }

  // 4. score distribution
  make("chart-scores", {
    tooltip: { trigger: "axis" },
    grid: { left: 40, right: 16, top: 24, bottom: 40 },
    xAxis: { type: "category", data: D.scores.bins, name: "总分", nameLocation: "middle", nameGap: 26 },
    yAxis: { type: "value", minInterval: 1, name: "份" },
    series: [{ type: "bar", data: D.scores.counts, barCategoryGap: "8%",
               itemStyle: { color: function (p) { return p.dataIndex >= 8 ? "#2e7d32" : (p.dataIndex >= 6 ? "#d08a00" : "#c62828"); } } }]
  });

  // 5. score components (mean)
  var comp = D.scores.components, keys = Object.keys(comp).filter(function (k) { return k !== "total"; });
  make("chart-components", {
    tooltip: { trigger: "axis" },
    grid: { left: 90, right: 40, top: 16, bottom: 24 },
    xAxis: { type: "value", max: 100 },
    yAxis: { type: "category", data: keys.map(function (k) { return comp[k].label; }).reverse() },
    series: [{ type: "bar", data: keys.map(function (k) { return comp[k].mean === null ? null : Math.round(comp[k].mean * 10) / 10; }).reverse(), itemStyle: { color: "#7b3fa0" },
               barMaxWidth: 20, label: { show: true, position: "right" } }]
  });

  // 6. units x rules heatmap
  var H = D.heatmap;
  if (H && H.units.length) {
    var dom = document.getElementById("chart-heatmap");
    if (dom) { dom.style.height = Math.max(300, 170 + H.units.length * 22) + "px"; }
    var LABELS = { "-1": "不适用", "0": "通过", "1": "警告", "2": "错误" };
    make("chart-heatmap", {
      tooltip: { formatter: function (p) { return esc(H.units[p.value[1]]) + "<br>" + esc(H.rules[p.value[0]]) + "：" + LABELS[String(p.value[2])]; } },
      grid: { left: 8, right: 16, top: 8, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: H.rules, axisLabel: { rotate: 50, interval: 0, width: 130, overflow: "truncate", fontSize: 11 }, splitArea: { show: true } },
      yAxis: { type: "category", data: H.units, inverse: true, axisLabel: { width: 200, overflow: "truncate", fontSize: 11 } },
      visualMap: { type: "piecewise", orient: "horizontal", left: "center", bottom: 0, dimension: 2,
                   pieces: [{ value: 2, label: "错误", color: "#c62828" }, { value: 1, label: "警告", color: "#f0a830" },
                            { value: 0, label: "通过", color: "#a5d6a7" }, { value: -1, label: "不适用", color: "#e4e7eb" }] },
      series: [{ type: "heatmap", data: H.cells, itemStyle: { borderColor: "#fff", borderWidth: 1 } }]
    }, function (p) { var id = H.report_ids[p.value[1]]; if (id) { window.location.href = "/reports/" + id; } });
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.fazhiCharts = charts;
})();
