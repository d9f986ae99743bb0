// Nimbus AI sample web app: plain fetch() calls with relative URLs against the sample API.
// Everything the API returns is rendered with textContent, never innerHTML.

const $ = (id) => document.getElementById(id);

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(data?.detail || data?.title || `HTTP ${response.status}`);
  }
  return data;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function showError(container, error) {
  container.replaceChildren(el("li", error.message, "error"));
}

// -- health -----------------------------------------------------------------------------------

async function checkHealth() {
  const badge = $("health");
  try {
    const health = await api("/healthz");
    badge.textContent = `API ${health.status} · ${health.articles} articles`;
    badge.classList.add("ok");
  } catch (error) {
    badge.textContent = `API unavailable: ${error.message}`;
    badge.classList.add("bad");
  }
}

// -- chat -------------------------------------------------------------------------------------

function newSessionId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const sessionId = newSessionId();

function addChatMessage(role, text, sources = []) {
  const item = el("li", undefined, `msg ${role}`);
  item.append(el("p", text));
  if (sources.length) {
    const list = el("ul", undefined, "sources");
    for (const source of sources) list.append(el("li", source.title));
    item.append(list);
  }
  $("chat-log").append(item);
  item.scrollIntoView({ block: "end" });
}

async function sendChat(event) {
  event.preventDefault();
  const input = $("chat-input");
  const message = input.value.trim();
  if (!message) return;
  input.value = "";
  addChatMessage("user", message);
  try {
    const reply = await api("/api/v1/chat", { method: "POST", body: { message, sessionId } });
    addChatMessage("bot", reply.answer, reply.sources);
  } catch (error) {
    addChatMessage("bot error", `Sorry, that failed: ${error.message}`);
  }
}

// -- recommendations --------------------------------------------------------------------------

async function loadRecommendations(event) {
  event?.preventDefault();
  const params = new URLSearchParams({ userId: $("rec-user").value, limit: $("rec-limit").value });
  if ($("rec-category").value) params.set("category", $("rec-category").value);
  const list = $("rec-list");
  try {
    const result = await api(`/api/v1/recommendations?${params}`);
    $("rec-meta").textContent = `Strategy: ${result.strategy} · model ${result.model}`;
    list.replaceChildren(...result.items.map((item) => {
      const row = el("li");
      const head = el("div", undefined, "rec-head");
      head.append(el("span", item.title, "rec-title"), el("span", `$${item.price.toFixed(2)}`, "muted"));
      const bar = el("div", undefined, "score");
      const fill = el("span");
      fill.style.width = `${Math.max(0, item.score) * 100}%`;
      bar.append(fill);
      const foot = el("div", undefined, "rec-foot");
      foot.append(el("span", item.category, "tag"), bar, el("span", item.score.toFixed(3), "muted small"));
      row.append(head, foot);
      return row;
    }));
  } catch (error) {
    $("rec-meta").textContent = "";
    showError(list, error);
  }
}

// -- knowledge base ---------------------------------------------------------------------------

async function openArticle(id) {
  const panel = $("kb-article");
  try {
    const article = await api(`/api/v1/articles/${encodeURIComponent(id)}`);
    const tags = el("p", undefined, "tags");
    for (const tag of article.tags) tags.append(el("span", tag, "tag"));
    panel.replaceChildren(el("h3", article.title), tags, el("p", article.body));
  } catch (error) {
    panel.replaceChildren(el("p", error.message, "error"));
  }
  panel.hidden = false;
}

async function searchArticles(event) {
  event?.preventDefault();
  const params = new URLSearchParams({ limit: "8" });
  if ($("kb-query").value.trim()) params.set("q", $("kb-query").value.trim());
  if ($("kb-lang").value) params.set("lang", $("kb-lang").value);
  const list = $("kb-results");
  try {
    const result = await api(`/api/v1/articles?${params}`);
    $("kb-meta").textContent = `${result.total} article${result.total === 1 ? "" : "s"} found`;
    list.replaceChildren(...result.items.map((article) => {
      const row = el("li");
      const link = el("button", article.title, "link");
      link.type = "button";
      link.addEventListener("click", () => openArticle(article.id));
      row.append(link, el("p", article.summary, "muted small"));
      return row;
    }));
  } catch (error) {
    $("kb-meta").textContent = "";
    showError(list, error);
  }
}

// -- start ------------------------------------------------------------------------------------

$("chat-form").addEventListener("submit", sendChat);
$("rec-form").addEventListener("submit", loadRecommendations);
$("kb-form").addEventListener("submit", searchArticles);
addChatMessage("bot", "Hi! I answer questions from the Nimbus knowledge base. What would you like to know?");
checkHealth();
loadRecommendations();
searchArticles();
