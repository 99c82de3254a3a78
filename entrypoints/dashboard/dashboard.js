// The dashboard: asks for the shop's API key, keeps it in this tab's sessionStorage, and fetches each chart (an SVG
// drawn by the shop) with the key in the access_token header -- never in a URL. Charts refresh every few seconds.
"use strict";

const REFRESH_MS = 5000;
const STORE = "cauldrons.api_key";
let timer = null;

function status(text) {
  document.getElementById("status").textContent = text;
}

function key() {
  return sessionStorage.getItem(STORE);
}

async function drawChart(section) {
  const metric = section.dataset.metric;
  const answer = await fetch(`/dashboard/charts/${metric}.svg`, {
    headers: { access_token: key() },
    cache: "no-store",
  });
  if (answer.status === 401) {
    throw new Error("unauthorized");
  }
  if (!answer.ok) {
    throw new Error(`${metric}: ${answer.status}`);
  }
  const svg = new DOMParser().parseFromString(await answer.text(), "image/svg+xml").documentElement;
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  const figure = section.querySelector(".figure");
  figure.replaceChildren(document.importNode(svg, true));
  section.dataset.drawn = String(Number(section.dataset.drawn || 0) + 1);
}

async function refresh() {
  if (!key()) {
    return;
  }
  const sections = Array.from(document.querySelectorAll(".chart"));
  try {
    await Promise.all(sections.map(drawChart));
    status(`Updated ${new Date().toLocaleTimeString()}; refreshing every ${REFRESH_MS / 1000} s.`);
    document.body.dataset.ready = "true";
  } catch (error) {
    if (error.message === "unauthorized") {
      sessionStorage.removeItem(STORE);
      stop();
      status("That is not the shop's key: enter it again.");
      showForm(true);
      return;
    }
    status(`Could not update (${error.message}); trying again.`);
  }
}

function stop() {
  if (timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

function start() {
  stop();
  showForm(false);
  status("Loading the charts...");
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

function showForm(visible) {
  document.getElementById("key-form").hidden = !visible;
  document.getElementById("forget").hidden = visible;
}

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
    document.querySelectorAll(".figure").forEach((figure) => figure.replaceChildren());
    status("Enter the shop's API key to see its metrics.");
    showForm(true);
  });
  if (key()) {
    start();
  }
});
