// The dashboard: asks for the shop's API key, keeps it in this tab's sessionStorage, fetches each metric's rows
// (GET /metrics/<metric>, JSON) with the key in the access_token header -- never in a URL -- and draws them here,
// with uPlot (vendored beside this file). The shop never draws a chart.
//
// Refreshing: one round at a time (the six metrics fetched one after another; the next round is scheduled
// REFRESH_MS after the last one finished, never while one is under way) and none while the tab is hidden: it
// resumes when the tab is shown again. So a tab has at most one request at the shop at any time.
//
// Every chart's size is bounded, whatever the history holds: at most MAX_SLOTS places along its x axis
// (consecutive game hours or days are summed beyond that), MAX_SERIES potions or liquids named (the others summed
// as "others"), MAX_GROUPS buyer groups. Under each chart a table holds the very numbers it draws.
//
// Text the shop was sent (day names, classes, species, skus) is data: it goes into the page as text
// (textContent) and onto the canvas as text, never as markup.
(() => {
  "use strict";

  const REFRESH_MS = 5000;
  const STORE = "cauldrons.api_key";
  const MAX_SLOTS = 96;
  const MAX_SERIES = 8;
  const MAX_GROUPS = 16;
  const MAX_LABEL = 18; // characters of a label drawn on a chart or its legend; the table shows the whole text
  const HEIGHT = 280;
  const PANEL_HEIGHT = 120; // each panel of the balances; the last, with the x axis's labels, X_AXIS_SIZE more
  const X_AXIS_SIZE = 84;
  const OTHERS = "\u0000others"; // no text the shop stores holds a NUL, so no name can be this one
  const SKU_COLOURS = {
    RED_POTION: "#d62728",
    GREEN_POTION: "#2ca02c",
    BLUE_POTION: "#1f77b4",
    DARK_POTION: "#3b3b3b",
  };
  const LIQUID_COLOURS = { red: "#d62728", green: "#2ca02c", blue: "#1f77b4", dark: "#3b3b3b", mixed: "#9467bd" };
  const PALETTE = ["#ff7f0e", "#17becf", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#aec7e8"];
  const OTHERS_COLOUR = "#c7c7c7";

  let running = false; // a key is given: the page refreshes (while visible)
  let busy = false; // a round is under way
  let timer = null; // the next round, scheduled
  let controller = null; // aborts the round under way when the key is forgotten
  let again = false; // a round was asked for while one was under way: run it as soon as that one ends
  let rounds = 0;
  const plots = new Map(); // metric -> {plots: [uPlot], width}

  // --- shaping the rows into bounded charts -------------------------------------------------------------------------

  function shown(name, label) {
    return name === OTHERS ? label : name;
  }

  function short(text) {
    const chars = Array.from(String(text).replace(/[\u0000-\u001f\u007f]+/g, " "));
    return chars.length > MAX_LABEL ? `${chars.slice(0, MAX_LABEL - 1).join("")}\u2026` : chars.join("");
  }

  const skuOf = (row) => row.sku;
  const potionsOf = (row) => row.potions;
  const dayOf = (row) => row.day;
  const liquidOf = (row) => row.liquid;
  const one = () => 1;

  function gameHour(row) {
    return `${row.day} ${String(row.hour).padStart(2, "0")}`;
  }

  // The distinct keys of `items` in their order, in at most `limit` slots of consecutive keys: {slot: key -> index,
  // labels: one per slot ("first" or "first - last")}.
  function slots(items, keyOf, labelOf, limit = MAX_SLOTS) {
    const keys = [];
    const labels = new Map();
    for (const item of items) {
      const key = keyOf(item);
      if (!labels.has(key)) {
        labels.set(key, labelOf(item));
        keys.push(key);
      }
    }
    const per = Math.max(1, Math.ceil(keys.length / limit));
    const slot = new Map(keys.map((key, i) => [key, Math.floor(i / per)]));
    const out = [];
    for (let first = 0; first < keys.length; first += per) {
      const last = Math.min(keys.length, first + per) - 1;
      const a = labels.get(keys[first]);
      out.push(last === first ? a : `${a} \u2013 ${labels.get(keys[last])}`);
    }
    return { slot, labels: out };
  }

  // The `limit` names with the largest totals (ties by name), in that order, and OTHERS last if any was left out.
  function largest(totals, limit) {
    const names = Array.from(totals.keys()).sort(
      (a, b) => totals.get(b) - totals.get(a) || (a < b ? -1 : a > b ? 1 : 0),
    );
    const kept = names.slice(0, limit);
    return names.length > limit ? [...kept, OTHERS] : kept;
  }

  function totalsBy(rows, keyOf, valueOf) {
    const totals = new Map();
    for (const row of rows) {
      totals.set(keyOf(row), (totals.get(keyOf(row)) || 0) + valueOf(row));
    }
    return totals;
  }

  function colours(names, known) {
    const spare = PALETTE.filter((c) => !Object.values(known).includes(c));
    let next = 0;
    return names.map((name) => (name === OTHERS ? OTHERS_COLOUR : known[name] || spare[next++ % spare.length]));
  }

  function zeros(n) {
    return new Array(n).fill(0);
  }

  // Stacked bars: a series per potion of `names` (the others summed in OTHERS), its potions in each x slot `xOf(row)`.
  function stacked(rows, names, othersLabel, xOf, n) {
    const index = new Map(names.map((name, i) => [name, i]));
    const values = names.map(() => zeros(n));
    for (const row of rows) {
      const i = index.has(row.sku) ? index.get(row.sku) : index.get(OTHERS);
      values[i][xOf(row)] += row.potions;
    }
    const fill = colours(names, SKU_COLOURS);
    return names.map((name, i) => ({ label: shown(name, othersLabel), colour: fill[i], values: values[i] }));
  }

  const SHAPES = {
    sales_by_hour(rows) {
      const x = slots(rows, gameHour, gameHour);
      const names = largest(totalsBy(rows, skuOf, potionsOf), MAX_SERIES);
      const n = x.labels.length;
      const series = stacked(rows, names, "other potions", (r) => x.slot.get(gameHour(r)), n);
      return { x: x.labels, xLabel: "game day and hour", yLabel: "potions sold", kind: "stack", series };
    },

    barrel_offers(rows) {
      const x = slots(rows, gameHour, gameHour);
      const names = largest(totalsBy(rows, liquidOf, one), MAX_SERIES);
      const index = new Map(names.map((name, i) => [name, i]));
      const values = names.map(() => new Array(x.labels.length).fill(null));
      for (const row of rows) {
        const i = index.has(row.liquid) ? index.get(row.liquid) : index.get(OTHERS);
        const at = x.slot.get(gameHour(row));
        values[i][at] = values[i][at] === null ? row.gold_per_ml : Math.min(values[i][at], row.gold_per_ml);
      }
      const fill = colours(names, LIQUID_COLOURS);
      const series = names.map((name, i) => ({
        label: shown(name, "other liquids"),
        colour: fill[i],
        values: values[i],
      }));
      return {
        x: x.labels,
        xLabel: "game day and hour",
        yLabel: "cheapest gold per ml",
        kind: "points",
        series,
        places: 4,
      };
    },

    buyers(rows) {
      const group = (r) => `${r.class} / ${r.species}`;
      const groups = largest(totalsBy(rows, group, potionsOf), MAX_GROUPS);
      const at = new Map(groups.map((g, i) => [g, i]));
      const xOf = (r) => (at.has(group(r)) ? at.get(group(r)) : at.get(OTHERS));
      const names = largest(totalsBy(rows, skuOf, potionsOf), MAX_SERIES);
      const series = stacked(rows, names, "other potions", xOf, groups.length);
      const low = zeros(groups.length).map(() => Infinity);
      const high = zeros(groups.length).map(() => -Infinity);
      for (const row of rows) {
        low[xOf(row)] = Math.min(low[xOf(row)], row.level);
        high[xOf(row)] = Math.max(high[xOf(row)], row.level);
      }
      const levels = groups.map((_, i) => (low[i] === high[i] ? String(low[i]) : `${low[i]}\u2013${high[i]}`));
      const x = groups.map((g) => shown(g, "other buyers"));
      return { x, xLabel: "class / species", yLabel: "potions bought", kind: "stack", series, extra: { levels } };
    },

    conversion(rows) {
      const x = slots(rows, gameHour, gameHour);
      const n = x.labels.length;
      const seen = zeros(n);
      const bought = zeros(n);
      for (const row of rows) {
        seen[x.slot.get(gameHour(row))] += row.visitors;
        bought[x.slot.get(gameHour(row))] += row.checkouts;
      }
      const series = [
        { label: "visitors", colour: "#9ecae1", values: seen, align: -1 },
        { label: "checkouts", colour: "#08519c", values: bought, align: 1 },
      ];
      return { x: x.labels, xLabel: "game day and hour", yLabel: "customers", kind: "bars", series };
    },

    balances(rows) {
      const x = slots(rows, (r) => r.tick, gameHour, 1000);
      const n = x.labels.length;
      const lines = new Map();
      for (const row of rows) {
        const name = row.commodity.startsWith("potion:") ? "potions" : row.commodity;
        if (!lines.has(name)) {
          lines.set(name, zeros(n));
        }
        lines.get(name)[x.slot.get(row.tick)] += row.balance;
      }
      const panels = [
        ["gold", (name) => name === "gold"],
        ["ml", (name) => name.startsWith("ml:")],
        ["potions", (name) => name === "potions"],
        ["capacity units", (name) => name === "potion_capacity" || name === "ml_capacity"],
      ];
      const names = Array.from(lines.keys()).sort();
      return {
        x: x.labels,
        xLabel: "game day and hour",
        kind: "lines",
        panels: panels.map(([label, belongs]) => {
          const mine = names.filter(belongs);
          const fill = mine.map((name, i) => LIQUID_COLOURS[name.slice(3)] || PALETTE[i % PALETTE.length]);
          return {
            yLabel: label,
            series: mine.map((name, i) => ({ label: name, colour: fill[i], values: lines.get(name) })),
          };
        }),
      };
    },

    profit(rows) {
      const x = slots(rows, dayOf, dayOf);
      const n = x.labels.length;
      const profit = zeros(n);
      const revenue = zeros(n);
      for (const row of rows) {
        profit[x.slot.get(row.day)] += row.profit;
        revenue[x.slot.get(row.day)] += row.revenue;
      }
      const series = [
        { label: "profit", colour: "#2ca02c", values: profit.map((v) => (v >= 0 ? v : null)) },
        { label: "loss", colour: "#d62728", values: profit.map((v) => (v < 0 ? v : null)) },
        { label: "revenue", colour: "#555555", values: revenue, line: true },
      ];
      return { x: x.labels, xLabel: "game day", yLabel: "gold", kind: "bars", series };
    },
  };

  // --- drawing ------------------------------------------------------------------------------------------------------

  function number(value, places = 0) {
    if (value === null || value === undefined) {
      return "\u2014";
    }
    return places ? value.toFixed(places) : value.toLocaleString("en");
  }

  function xAxis(labels, label, shown) {
    if (!shown) {
      return {
        size: 8,
        values: (u, splits) => splits.map(() => ""),
        incrs: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      };
    }
    return {
      label,
      labelSize: 18,
      size: X_AXIS_SIZE,
      rotate: -40,
      space: 22,
      incrs: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024],
      values: (u, splits) =>
        splits.map((s) => (Number.isInteger(s) && s >= 0 && s < labels.length ? short(labels[s]) : "")),
      font: "11px system-ui, sans-serif",
      labelFont: "12px system-ui, sans-serif",
    };
  }

  function yAxis(label) {
    return {
      label,
      labelSize: 18,
      size: 56,
      font: "11px system-ui, sans-serif",
      labelFont: "12px system-ui, sans-serif",
    };
  }

  // One uPlot chart of `series` over the x labels: {options, data, marks} where marks counts bars and points drawn.
  function plotOf(shape, series, yLabel, width, height, sync, xLabels = true) {
    const n = shape.x.length;
    const xs = shape.x.map((_, i) => i);
    const data = [xs];
    const options = {
      width,
      height,
      legend: { live: true },
      cursor: sync ? { sync: { key: sync } } : {},
      scales: { x: { time: false, range: () => [-0.5, Math.max(n, 1) - 0.5] } },
      axes: [xAxis(shape.x, shape.xLabel, xLabels), yAxis(yLabel)],
      series: [{ label: shape.xLabel, value: (u, v) => (v === null || v === undefined ? "" : short(shape.x[v])) }],
    };
    let marks = 0;
    const count = (values) => values.filter((v) => v !== null && v !== undefined).length;
    if (shape.kind === "stack") {
      // Each series drawn as the sum of itself and those under it, the tallest first, so each shows its own part.
      const sums = [];
      let sum = zeros(n);
      for (const s of series) {
        sum = sum.map((v, i) => v + s.values[i]);
        sums.push(sum);
      }
      for (let j = series.length - 1; j >= 0; j--) {
        const own = series[j].values;
        data.push(sums[j].map((v, i) => (own[i] ? v : null)));
        options.series.push({
          label: short(series[j].label),
          fill: series[j].colour,
          stroke: series[j].colour,
          width: 0,
          paths: uPlot.paths.bars({ size: [0.75, 80] }),
          points: { show: false },
          value: (u, v, si, i) => (i === null || i === undefined ? "" : number(own[i])),
        });
        marks += count(own.map((v) => v || null));
      }
      options.scales.y = { range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1] };
    } else {
      for (const s of series) {
        data.push(s.values);
        const bar = shape.kind === "bars" && !s.line;
        const line = shape.kind === "lines" || s.line;
        options.series.push({
          label: short(s.label),
          stroke: s.colour,
          fill: bar ? s.colour : undefined,
          width: bar ? 0 : line ? 1.5 : 0,
          paths: bar
            ? uPlot.paths.bars({ size: [s.align ? 0.4 : 0.75, 60], align: s.align || 0 })
            : line
              ? undefined
              : () => null,
          points: { show: !bar, size: line ? 4 : 7, fill: s.colour },
          spanGaps: true,
          value: (u, v) => number(v, shape.places || 0),
        });
        marks += count(s.values);
      }
      if (shape.kind === "bars") {
        options.scales.y = { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] };
      }
    }
    return { options, data, marks };
  }

  function cell(row, text, header = false) {
    const td = document.createElement(header ? "th" : "td");
    td.textContent = text;
    row.append(td);
  }

  // The numbers a chart draws, as a table: one row per x slot, one column per series (and the buyers' levels).
  function table(shape, groups) {
    const element = document.createElement("table");
    const head = element.createTHead().insertRow();
    cell(head, shape.xLabel, true);
    const all = groups.flatMap((g) => g.series);
    for (const s of all) {
      cell(head, s.label, true);
    }
    if (shape.extra) {
      cell(head, "levels", true);
    }
    const body = element.createTBody();
    shape.x.forEach((label, i) => {
      const row = body.insertRow();
      cell(row, label, true);
      for (const s of all) {
        cell(row, number(s.values[i], shape.places || 0));
      }
      if (shape.extra) {
        cell(row, shape.extra.levels[i]);
      }
    });
    return element;
  }

  function draw(section, rows) {
    const metric = section.dataset.metric;
    const figure = section.querySelector(".figure");
    const data = section.querySelector(".data");
    const old = plots.get(metric);
    if (old) {
      old.plots.forEach((p) => p.destroy());
      plots.delete(metric);
    }
    if (!rows.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "no data yet";
      figure.replaceChildren(empty);
      data.replaceChildren();
      section.dataset.marks = "0";
      return;
    }
    const shape = SHAPES[metric](rows);
    const groups = shape.panels || [{ yLabel: shape.yLabel, series: shape.series }];
    const width = Math.max(280, figure.clientWidth || 600);
    figure.replaceChildren();
    let marks = 0;
    const made = groups.map((group, i) => {
      const last = i === groups.length - 1;
      const height = shape.panels ? PANEL_HEIGHT + (last ? X_AXIS_SIZE : 0) : HEIGHT;
      const plot = plotOf(shape, group.series, group.yLabel, width, height, shape.panels ? metric : null, last);
      marks += plot.marks;
      return new uPlot(plot.options, plot.data, figure);
    });
    plots.set(metric, { plots: made, width });
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "The numbers drawn";
    details.append(summary, table(shape, groups));
    data.replaceChildren(details);
    section.dataset.marks = String(marks);
  }

  function resize(section) {
    const drawn = plots.get(section.dataset.metric);
    const width = Math.max(280, section.querySelector(".figure").clientWidth);
    if (drawn && Math.abs(drawn.width - width) > 2) {
      drawn.width = width;
      drawn.plots.forEach((p) => p.setSize({ width, height: p.height }));
    }
  }

  // --- fetching, one round at a time -------------------------------------------------------------------------------

  function status(text) {
    document.getElementById("status").textContent = text;
  }

  function key() {
    return sessionStorage.getItem(STORE);
  }

  async function rowsOf(metric, signal) {
    const answer = await fetch(`/metrics/${metric}`, { headers: { access_token: key() }, cache: "no-store", signal });
    if (answer.status === 401) {
      throw new Error("unauthorized");
    }
    if (!answer.ok) {
      throw new Error(`${metric}: ${answer.status}`);
    }
    return (await answer.json()).rows;
  }

  // One round: the metrics one after another, each chart drawn as its rows arrive, so that a tab never has more
  // than one request at the shop (on one keep-alive connection, so one worker, whose kept replies its other tabs
  // share).
  async function refresh() {
    controller = new AbortController();
    const signal = controller.signal;
    const failed = [];
    for (const section of document.querySelectorAll(".chart")) {
      let rows;
      try {
        rows = await rowsOf(section.dataset.metric, signal);
      } catch (error) {
        if (signal.aborted) {
          return;
        }
        if (error.message === "unauthorized") {
          sessionStorage.removeItem(STORE);
          stop();
          status("That is not the shop's key: enter it again.");
          showForm(true);
          return;
        }
        failed.push(error.message);
        continue;
      }
      if (signal.aborted) {
        return;
      }
      draw(section, rows);
    }
    if (failed.length) {
      status(`Could not update (${failed.join("; ")}); trying again.`);
    } else {
      status(`Updated ${new Date().toLocaleTimeString()}; refreshing ${REFRESH_MS / 1000} s after each update.`);
      document.body.dataset.ready = "true";
    }
  }

  async function round() {
    timer = null;
    if (busy) {
      again = true;
      return;
    }
    if (!running || document.hidden) {
      return;
    }
    busy = true;
    try {
      await refresh();
    } catch (error) {
      status(`Could not update (${error.message}); trying again.`);
    } finally {
      busy = false;
      rounds += 1;
      document.body.dataset.rounds = String(rounds);
    }
    if (again) {
      again = false;
      round();
    } else {
      schedule();
    }
  }

  function schedule() {
    if (running && !busy && timer === null && !document.hidden) {
      timer = setTimeout(round, REFRESH_MS);
    }
  }

  function stop() {
    running = false;
    again = false;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (controller) {
      controller.abort();
    }
  }

  function start() {
    stop();
    running = true;
    showForm(false);
    status("Loading the charts...");
    round();
  }

  function showForm(visible) {
    document.getElementById("key-form").hidden = !visible;
    document.getElementById("forget").hidden = visible;
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      if (running) {
        status("Paused while this tab is hidden.");
      }
    } else if (running && !busy && timer === null) {
      round(); // shown again: refresh now, then every REFRESH_MS after each round
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = document.getElementById("key");
      sessionStorage.setItem(STORE, input.value);
      input.value = "";
      start();
    });
    document.getElementById("forget").addEventListener("click", () => {
      sessionStorage.removeItem(STORE);
      stop();
      plots.forEach((drawn) => drawn.plots.forEach((p) => p.destroy()));
      plots.clear();
      document.querySelectorAll(".figure, .data").forEach((element) => element.replaceChildren());
      status("Enter the shop's API key to see its metrics.");
      showForm(true);
    });
    const observer = new ResizeObserver((entries) => entries.forEach((e) => resize(e.target.closest(".chart"))));
    document.querySelectorAll(".chart .figure").forEach((figure) => observer.observe(figure));
    if (key()) {
      start();
    }
  });
})();
