// The seqkit demo page: plain JavaScript, no build step. It asks /models what is loaded, posts the text to the
// chosen model's endpoint, and renders the answer with the renderer for that model's task (raw JSON otherwise).
"use strict";

const modelSelect = document.getElementById("model");
const textInput = document.getElementById("text");
const statusLine = document.getElementById("status");
const answer = document.getElementById("answer");
let models = [];

// Each task's request body for one text, and how its answer is drawn.
const tasks = {
  "slot-filling": {
    request: (model, text) => ({ model: model.name, texts: [text] }),
    render: renderTagged,
  },
};

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // textContent: user text is never parsed as HTML
  return node;
}

// A stable pastel colour per slot type, so the same slot looks the same in every sentence.
function colourOf(name) {
  let hash = 0;
  for (const character of name) hash = (hash * 31 + character.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360}, 70%, 82%)`;
}

function renderTagged(result) {
  const sentence = element("div", "sentence");
  const spanAt = new Map(result.spans.map((span) => [span.start, span]));
  for (let index = 0; index < result.tokens.length; ) {
    const span = spanAt.get(index);
    if (span) {
      const mark = element("mark", "slot", result.tokens.slice(span.start, span.end).join(" "));
      mark.dataset.slot = span.type;
      mark.style.background = colourOf(span.type);
      mark.title = span.type;
      mark.appendChild(element("span", "slot-type", span.type));
      sentence.appendChild(mark);
      index = span.end;
    } else {
      sentence.appendChild(element("span", "token", result.tokens[index]));
      index += 1;
    }
  }
  const parts = [sentence];
  if (result.intent) {
    const intent = element("div", "intent");
    intent.append("intent: ");
    const name = element("strong", "", result.intent);
    name.id = "intent";
    intent.append(name, ` (${result.intent_probability.toFixed(3)})`);
    parts.push(intent);
  }
  return parts;
}

function renderRaw(result) {
  return [element("pre", "", JSON.stringify(result, null, 2))];
}

async function loadModels() {
  const reply = await fetch("/models");
  models = await reply.json();
  for (const model of models) {
    const option = element("option", "", `${model.name} (${model.task})`);
    option.value = model.name;
    modelSelect.appendChild(option);
  }
  if (!models.length) statusLine.textContent = "No model is loaded.";
}

async function ask(event) {
  event.preventDefault();
  const model = models.find((candidate) => candidate.name === modelSelect.value);
  const text = textInput.value;
  const task = tasks[model.task];
  statusLine.textContent = "";
  answer.replaceChildren();
  answer.dataset.state = "waiting";
  const request = task ? task.request(model, text) : { model: model.name, texts: [text] };
  const reply = await fetch(model.endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  const body = await reply.json();
  if (!reply.ok) {
    const detail = typeof body.detail === "string" ? body.detail : body.detail.map((d) => d.msg).join("; ");
    statusLine.textContent = `error ${reply.status}: ${detail}`;
    answer.dataset.state = "error";
    return;
  }
  const render = task ? task.render : renderRaw;
  answer.replaceChildren(...render(body.results[0]));
  answer.dataset.state = "done";
}

document.getElementById("ask").addEventListener("submit", ask);
loadModels();
