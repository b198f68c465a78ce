/* 单位: one indicator's headline value across the unit's years (line chart). */
(function () {
  "use strict";
  var node = document.getElementById("unit-data");
  var dom = document.getElementById("chart-trend");
  if (!node || !dom || !window.echarts) { return; }
  var D = JSON.parse(node.textContent);
  if (!D.trends.length) { return; }
  var chart = echarts.init(dom, null, { renderer: "svg" });
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function draw(i) {
    var t = D.trends[i];
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif' },
      title: { text: t.label + (t.unit ? "（" + t.unit + "）" : ""), left: 0, top: 0, textStyle: { fontSize: 13, fontWeight: "normal", color: "#6b7785" } },
      tooltip: { trigger: "axis", formatter: function (ps) { var p = ps[0]; return esc(p.name) + "年：" + esc(t.display[p.dataIndex] || "未写明"); } },
      grid: { left: 56, right: 24, top: 40, bottom: 30 },
      xAxis: { type: "category", data: D.years.map(String), boundaryGap: false },
      yAxis: { type: "value" },
      series: [{ type: "line", data: t.values, connectNulls: true, symbolSize: 9, lineStyle: { width: 3, color: "#1565c0" },
                 itemStyle: { color: "#1565c0" }, label: { show: true, position: "top", formatter: function (p) { return t.display[p.dataIndex]; } } }]
    }, true);
    dom.setAttribute("data-rendered", "1");
  }
  var pick = document.getElementById("trend-pick");
  if (pick) { pick.addEventListener("change", function () { draw(parseInt(pick.value, 10) || 0); }); }
  draw(0);
  window.addEventListener("resize", function () { chart.resize(); });
})();
