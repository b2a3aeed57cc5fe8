// The web console of the platform stand-in (plain ES module, no dependencies, works offline).
// It reads the fleet from /fleet/api/devices once a second, follows received-msg through the
// event stream /fleet/api/events, and sends commands through the platform's own API
// (POST .../device-communication/<device>/outgoing-msg), as any application would.

const token = new URLSearchParams(location.hash.slice(1)).get("token");
const auth = token ? { Authorization: `Bearer ${token}` } : {};
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600, HEIGHT = 480, MARGIN = 24;

let fleet = { devices: [], api: "", switches: false };
let selected = null;
let city = null;
// outgoing resourceName -> its received messages; an answer may arrive on the stream before
// the POST's own reply does, so every chain is kept (the last 200)
const chains = new Map();

async function getJson(url) {
  const reply = await fetch(url, { headers: { Accept: "application/json", ...auth } });
  const body = await reply.json();
  if (!reply.ok) throw new Error(body["m2m:dbg"] || reply.statusText);
  return body;
}

// -- the map: a plain equirectangular projection around the fleet (no tiles) -------------

function projection(points) {
  const lats = points.map((p) => p[0]), lons = points.map((p) => p[1]);
  let [s, n, w, e] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  if (n - s < 1e-3) { s -= 0.01; n += 0.01; }
  if (e - w < 1e-3) { w -= 0.01; e += 0.01; }
  const k = Math.cos(((s + n) / 2) * Math.PI / 180);
  const scale = Math.min((WIDTH - 2 * MARGIN) / ((e - w) * k), (HEIGHT - 2 * MARGIN) / (n - s));
  const x0 = (WIDTH - (e - w) * k * scale) / 2, y0 = (HEIGHT - (n - s) * scale) / 2;
  return ([lat, lon]) => [x0 + (lon - w) * k * scale, y0 + (n - lat) * scale];
}

function overlaps(outline, points) {
  if (!points.length) return true;
  const inside = (p) => p[0] >= Math.min(...outline.map((q) => q[0])) - 0.2 &&
    p[0] <= Math.max(...outline.map((q) => q[0])) + 0.2 &&
    p[1] >= Math.min(...outline.map((q) => q[1])) - 0.3 &&
    p[1] <= Math.max(...outline.map((q) => q[1])) + 0.3;
  return points.some(inside);
}

function drawMap() {
  const located = fleet.devices.filter((d) => d.location);
  const points = located.map((d) => [d.location.lat, d.location.lon]);
  const showCity = city && overlaps(city.outline, points);
  const project = projection(points.concat(showCity ? city.outline : []).concat(
    points.length || showCity ? [] : [[0, 0]]));
  $("city").setAttribute("d", showCity
    ? "M" + city.outline.map((p) => project(p).map((v) => v.toFixed(1)).join(",")).join("L") + "Z"
    : "");
  $("city-name").textContent = showCity ? `${city.name} (outline drawn by hand)` : "";
  const dots = $("dots");
  const seen = new Set();
  for (const device of located) {
    seen.add(device.endpoint);
    let dot = dots.querySelector(`[data-endpoint="${CSS.escape(device.endpoint)}"]`);
    if (!dot) {
      dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("r", "7");
      dot.setAttribute("class", "device");
      dot.dataset.endpoint = device.endpoint;
      dot.appendChild(document.createElementNS(SVG, "title"));
      dot.addEventListener("click", () => select(device.endpoint));
      dots.appendChild(dot);
    }
    const [x, y] = project([device.location.lat, device.location.lon]);
    dot.setAttribute("cx", x.toFixed(1));
    dot.setAttribute("cy", y.toFixed(1));
    dot.dataset.state = device.state;
    dot.classList.toggle("faulty", !!(device.faults && (device.faults.silence || device.faults.reject)));
    dot.classList.toggle("selected", device.endpoint === selected);
    dot.firstChild.textContent = `${device.endpoint}: ${device.state}`;
  }
  for (const dot of [...dots.children]) if (!seen.has(dot.dataset.endpoint)) dot.remove();
}

// -- the selected device ------------------------------------------------------------------

function current() {
  return fleet.devices.find((d) => d.endpoint === selected) || null;
}

function select(endpoint) {
  selected = endpoint;
  $("device-select").value = endpoint;
  render();
}

function drawDevice() {
  const pick = $("device-select");
  const names = fleet.devices.map((d) => d.endpoint);
  if ([...pick.options].map((o) => o.value).join() !== names.join()) {
    pick.replaceChildren(...names.map((n) => new Option(n, n)));
  }
  if (!selected && names.length) selected = names[0];
  pick.value = selected || "";
  const device = current();
  $("device-state").textContent = device ? device.state : "–";
  const faults = device && device.faults;
  $("device-faults").textContent = faults
    ? `device: ${faults.device}${faults.silence ? " · silenced" : ""}${faults.reject ? " · rejecting" : ""}`
    : "";
  for (const box of document.querySelectorAll("#faults input, #faults button")) {
    box.disabled = !faults;
    if (faults && box.type === "checkbox") box.checked = !!faults[box.dataset.fault];
  }
  $("faults-note").textContent = fleet.switches ? ""
    : "Fault switches need the devices in this process (fleet demo --web).";
  const rows = Object.entries(device ? device.values : {}).map(([path, value]) => {
    const tr = document.createElement("tr");
    tr.dataset.path = path;
    for (const text of [path, JSON.stringify(value)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  });
  $("values").tBodies[0].replaceChildren(...rows);
}

function render() {
  const registered = fleet.devices.filter((d) => d.state === "registered").length;
  $("summary").textContent =
    `tenant ${fleet.tenant} · ${fleet.devices.length} devices · ${registered} registered`;
  drawMap();
  drawDevice();
}

async function refresh() {
  try {
    fleet = await getJson("/fleet/api/devices");
    render();
  } catch (error) {
    $("summary").textContent = `cannot read the fleet: ${error.message}`;
  }
}

// -- commands through the platform's API ---------------------------------------------------

async function send(content) {
  if (!selected) return;
  const text = content.trim();
  if (!text) return;
  let cin = { con: text };
  if (text.startsWith("{") || text.startsWith("[")) {
    try { cin = { con: JSON.parse(text), cnf: "application/json:0" }; }
    catch (error) { $("answer").textContent = `not JSON: ${error.message}`; return; }
  }
  const url = `${fleet.api}/device-communication/${encodeURIComponent(selected)}/outgoing-msg`;
  const reply = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json;ty=4", Accept: "application/json",
      "X-M2M-Origin": "CWebConsole", "X-M2M-RI": String(Date.now()), ...auth },
    body: JSON.stringify({ "m2m:cin": cin }),
  });
  const body = await reply.json();
  if (!reply.ok) {
    $("answer").textContent = `${reply.status}: ${body["m2m:dbg"]}`;
    return;
  }
  const name = body.contentInstance.resourceName;
  $("answer").dataset.outgoing = name;
  $("answer").textContent = `sent ${JSON.stringify(cin.con)} (outgoing-msg ${name}); waiting…`;
  showAnswer(name);
}

function showAnswer(name) {
  const answers = (chains.get(name) || []).map((i) => i.content);
  if ($("answer").dataset.outgoing !== name || !answers.length) return;
  $("answer").textContent = JSON.stringify(answers.length === 1 ? answers[0] : answers, null, 2);
}

function onReceived(instance) {
  const content = instance.content;
  const item = document.createElement("li");
  const status = content.status ? ` ${content.status.code}` : "";
  const path = content.resourcePath ? ` ${content.resourcePath}` : "";
  const value = content.messageType === "notify" ? ` = ${JSON.stringify(content.dataValue)}` : "";
  item.textContent = `${instance.creationTime} ${content.nodeResourceName} ` +
    `${content.messageType}${content.method ? " " + content.method : ""}${path}${status}${value}`;
  $("log").prepend(item);
  while ($("log").children.length > 200) $("log").lastChild.remove();
  const label = (instance.labels || []).find((l) => l.startsWith("outgoing_msgRN:"));
  const name = label && label.slice("outgoing_msgRN:".length);
  if (name) {
    if (!chains.has(name)) chains.set(name, []);
    chains.get(name).push(instance);
    while (chains.size > 200) chains.delete(chains.keys().next().value);
    showAnswer(name);
  }
}

async function follow() {
  // fetch, not EventSource: it can send the bearer token
  for (;;) {
    try {
      const reply = await fetch("/fleet/api/events", { headers: { Accept: "text/event-stream", ...auth } });
      if (!reply.ok) throw new Error(reply.statusText);
      const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) onReceived(JSON.parse(data).contentInstance);
        }
      }
    } catch (error) {
      $("log").prepend(Object.assign(document.createElement("li"), { textContent: `stream: ${error.message}` }));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function fault(name, on) {
  if (!selected) return;
  const reply = await fetch(`/fleet/api/devices/${encodeURIComponent(selected)}/faults`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...auth },
    body: JSON.stringify({ fault: name, on }),
  });
  const body = await reply.json();
  if (!reply.ok) $("faults-note").textContent = body["m2m:dbg"];
  await refresh();
}

// -- wiring -------------------------------------------------------------------------------

$("command-form").addEventListener("submit", (event) => {
  event.preventDefault();
  send($("command").value);
});
for (const button of document.querySelectorAll("[data-op]")) {
  button.addEventListener("click", () => {
    const op = button.dataset.op, path = $("path").value.trim();
    const value = $("value").value;
    send(op === "WRITE" ? `${op} ${path} ${value}` : `${op} ${path}`);
  });
}
$("device-select").addEventListener("change", (event) => select(event.target.value));
for (const box of document.querySelectorAll("#faults input")) {
  box.addEventListener("change", () => fault(box.dataset.fault, box.checked));
}
$("fault-reboot").addEventListener("click", () => fault("reboot", true));

getJson("/console/city.json").then((data) => { city = data; render(); }).catch(() => {});
refresh();
setInterval(refresh, 1000);
follow();
