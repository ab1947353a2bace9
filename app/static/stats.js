// The oversight dashboard's charts (templates/stats/index.html): Apache ECharts, vendored in
// static/vendor/echarts, drawn from the figures in the page's <script type="application/json"
// id="stats-data"> element, so that no inline script is needed (the CSP allows none).
(function () {
  "use strict";

  function rows(tables, name) {
    return tables[name] ? tables[name][1] : [];
  }

  function bar(categories, series, horizontal) {
    var category = { type: "category", data: categories, axisLabel: { interval: 0, overflow: "truncate", width: 120 } };
    var value = { type: "value" };
    return {
      // Drawn in the chart: the HTML tooltip's markup carries style attributes the CSP refuses.
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 32, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      // A pointer only over bars that open something (the cases chart's, see openCases).
      series: series.map(function (s) {
        return { type: "bar", name: s.name, data: s.data, cursor: s.cursor || "default" };
      })
    };
  }

  function options(name, payload) {
    var tables = payload.tables;
    var labels = payload.labels;
    var data = payload.data;
    if (name === "cases") {
      var caseRows = rows(tables, "cases");
      return bar(caseRows.map(function (r) { return r[0]; }), [{
        name: payload.titles.cases,
        data: caseRows.map(function (r) { return r[1]; }),
        cursor: payload.case_links ? "pointer" : "default"
      }], false);
    }
    if (name === "cycle_time") {
      var headers = tables.cycle_time[0];
      var stageRows = rows(tables, "cycle_time");
      return bar(stageRows.map(function (r) { return r[0]; }), [
        { name: headers[1], data: stageRows.map(function (r) { return r[1]; }) },
        { name: headers[2], data: stageRows.map(function (r) { return r[2]; }) }
      ], true);
    }
    if (name === "trend") {
      var trend = data.cycle_time.trend;
      var trendHeaders = tables.trend[0];
      return {
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { top: 0 },
        grid: { left: 8, right: 16, bottom: 8, top: 32, containLabel: true },
        xAxis: { type: "category", data: trend.map(function (t) { return t.month; }) },
        yAxis: [{ type: "value" }, { type: "value", name: trendHeaders[4] }],
        series: [
          { type: "line", name: labels.received, cursor: "default", data: trend.map(function (t) { return t.received; }) },
          { type: "line", name: labels.resolved, cursor: "default", data: trend.map(function (t) { return t.resolved; }) },
          { type: "line", name: labels.litigation, cursor: "default", data: trend.map(function (t) { return t.litigation; }) },
          { type: "bar", name: trendHeaders[4], yAxisIndex: 1, cursor: "default", data: trend.map(function (t) { return t.overall_median_days; }) }
        ]
      };
    }
    if (name === "insurers") {
      var cards = data.insurers;
      var insurerHeaders = tables.insurers[0];
      return bar(cards.map(function (c) { return c.name; }), [
        { name: insurerHeaders[1], data: cards.map(function (c) { return c.cases; }) },
        { name: insurerHeaders[5], data: cards.map(function (c) { return c.payments_on_time; }) },
        { name: insurerHeaders[6], data: cards.map(function (c) { return c.payments_late; }) },
        { name: insurerHeaders[9], data: cards.map(function (c) { return c.tribunal_rejections; }) }
      ], true);
    }
    if (name === "centres") {
      var centres = rows(tables, "centres");
      var centreHeaders = tables.centres[0];
      return bar(centres.map(function (r) { return r[0]; }), [
        { name: centreHeaders[1], data: centres.map(function (r) { return r[1]; }) },
        { name: centreHeaders[2], data: centres.map(function (r) { return r[2]; }) }
      ], true);
    }
    return null;
  }

  // A bar of the cases chart opens the list of its cases: the link the count above it has,
  // in the order of the chart's bars (blueprints/stats.py: case_links; none for a regulator).
  function openCases(chart, links) {
    chart.on("click", "series", function (params) {
      var link = links[params.dataIndex];
      if (link) {
        window.location.assign(link);
      }
    });
  }

  function draw() {
    var source = document.getElementById("stats-data");
    if (!source || typeof window.echarts === "undefined") {
      return;
    }
    var payload = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll(".stats-chart").forEach(function (element) {
      var option = options(element.getAttribute("data-chart"), payload);
      if (!option) {
        return;
      }
      // Sized here (CSSOM), not by a style attribute the CSP would refuse.
      element.style.width = "100%";
      element.style.height = element.getAttribute("data-chart") === "cases" ? "240px" : "320px";
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(option);
      if (element.getAttribute("data-chart") === "cases" && payload.case_links) {
        openCases(chart, payload.case_links);
      }
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
