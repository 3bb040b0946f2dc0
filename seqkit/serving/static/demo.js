// The seqkit demo page: plain JavaScript, no build step. It asks /models what is loaded, posts the text to the
// chosen model's endpoint, and renders the answer with the view that the model's task declares (its `view` in
// /models; raw JSON for a view this page does not know). The page never names a task.
"use strict";

const modelSelect = document.getElementById("model");
const textInput = document.getElementById("text");
const statusLine = document.getElementById("status");
const answer = document.getElementById("answer");
const textLabel = document.getElementById("text-label");
const questionRow = document.getElementById("question-row");
const questionInput = document.getElementById("question");
let models = [];
// A server started with --token wants it on every request: open the page as /#token=TOKEN. A fragment is never
// sent to the server, so the token stays out of its logs and out of the Referer header.
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const authorization = token ? { Authorization: `Bearer ${token}` } : {};

const askText = (model, text) => ({ model: model.name, texts: [text] });

// Each view's request body for one input, how its answer is drawn, and how the form asks for the input. A task
// declares its view (seqkit/tasks/base.py: demo_view) and its placeholder; several tasks may share a view.
const views = {
  tagged: { request: askText, render: renderTagged },
  classified: {
    request: (model, text) => ({ ...askText(model, text), explain: true }),
    render: renderExplained,
  },
  generated: { request: askText, render: renderGenerated },
  answered: {
    // The text box holds the story, one sentence per line; blank lines are left out.
    request: (model, text) => ({
      model: model.name,
      questions: [{ story: text.split("\n").filter((line) => line.trim()), question: questionInput.value }],
    }),
    render: renderRead,
    label: "Story (one sentence per line)",
    question: true,
  },
  // The text is scored and continued by a dozen words drawn from the model.
  scored: { request: (model, text) => ({ ...askText(model, text), sample_words: 12 }), render: renderScored },
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

// The label and its probabilities, then the words shaded by their contribution to that label: green speaks
// for it, red against it, and the stronger the colour, the larger the score (relative to the text's largest).
function renderExplained(result) {
  const line = element("div", "output");
  line.append("label: ");
  const label = element("strong", "", result.label);
  label.id = "label";
  line.append(label);
  const probabilities = Object.entries(result.probabilities)
    .map(([name, probability]) => `${name} ${probability.toFixed(3)}`)
    .join(", ");
  line.append(` (${probabilities})`);
  const sentence = element("div", "sentence");
  sentence.id = "contributions";
  const largest = Math.max(...result.contributions.map(Math.abs)) || 1;
  result.tokens.forEach((token, index) => {
    const score = result.contributions[index];
    const word = element("span", "word", token);
    const strength = Math.abs(score) / largest;
    word.dataset.contribution = score;
    word.dataset.side = score > 0 ? "for" : score < 0 ? "against" : "neither";
    word.style.background = score >= 0 ? `rgba(22, 163, 74, ${strength})` : `rgba(220, 38, 38, ${strength})`;
    word.style.color = strength > 0.6 ? "white" : "#1d2330";
    word.title = `${score >= 0 ? "+" : ""}${score.toFixed(4)} ${score >= 0 ? "for" : "against"} ${result.label}`;
    sentence.appendChild(word);
  });
  const legend = element("div", "legend", `green: for ${result.label}, red: against; hover a word for its score`);
  return [line, sentence, legend];
}

// A cell shaded by its weight in [0, 1]: the darker, the more attention.
function weightCell(weight) {
  const cell = element("td", "weight", weight.toFixed(2));
  cell.style.background = `rgba(37, 99, 235, ${weight})`;
  cell.style.color = weight > 0.5 ? "white" : "#1d2330";
  cell.dataset.weight = weight;
  return cell;
}

// A table of weights: one row per `rows` label, one column per `columns` label, weights[row][column].
function weightTable(caption, corner, columns, rows, weights) {
  const table = element("table", "weights");
  table.appendChild(element("caption", "", caption));
  const head = element("tr");
  head.appendChild(element("th", "", corner));
  for (const column of columns) head.appendChild(element("th", "", column));
  table.appendChild(head);
  rows.forEach((label, index) => {
    const row = element("tr");
    row.appendChild(element("th", "", label));
    for (const weight of weights[index]) row.appendChild(weightCell(weight));
    table.appendChild(row);
  });
  return table;
}

// A translation or a title, with the attention heatmap: output tokens (and the end) down, source tokens across.
function renderGenerated(result) {
  const output = element("div", "output", result.output);
  output.id = "output";
  const rows = [...result.tokens, "</s>"];
  const caption = `attention of each output token over the source (score ${result.score.toFixed(3)})`;
  const heatmap = weightTable(caption, "output \\ source", result.source_tokens, rows, result.attention);
  heatmap.id = "heatmap";
  return [output, heatmap];
}

// A bAbI answer, with the memory network's attention per hop over the story's sentences.
function renderRead(result) {
  const line = element("div", "output");
  line.append(`${result.question} `);
  const word = element("strong", "", result.answer);
  word.id = "read-answer";
  line.append(word, ` (${result.probability.toFixed(3)})`);
  const hops = result.attention.map((_, hop) => `hop ${hop + 1}`);
  // The answer holds one row per hop; the table shows one row per sentence.
  const bySentence = result.story.map((_, sentence) => result.attention.map((hop) => hop[sentence]));
  const table = weightTable("attention of each hop over the story", "story", hops, result.story, bySentence);
  table.id = "hops";
  return [line, table];
}

// A language model's view of a sentence: its perplexity, each word shaded by how likely the model found it there
// (the darker, the likelier), and the words it drew to continue it.
function renderScored(result) {
  const line = element("div", "output");
  line.append("perplexity: ");
  const value = element("strong", "", result.perplexity.toFixed(2));
  value.id = "perplexity";
  line.append(value, ` (log-probability ${result.log_probability.toFixed(3)})`);
  const sentence = element("div", "sentence");
  sentence.id = "likelihoods";
  [...result.tokens, "</s>"].forEach((token, index) => {
    const probability = Math.exp(result.token_log_probabilities[index]);
    const word = element("span", "word", token);
    word.dataset.probability = probability;
    word.style.background = `rgba(37, 99, 235, ${probability})`;
    word.style.color = probability > 0.5 ? "white" : "#1d2330";
    word.title = `p = ${probability.toFixed(4)}`;
    sentence.appendChild(word);
  });
  const parts = [line, sentence];
  if (result.continuation) {
    const continued = element("div", "output", `continued: ${result.continuation.text}`);
    continued.id = "continuation";
    parts.push(continued);
  }
  return parts;
}

// The form asks for what the chosen model's view reads, with the placeholder its task declares.
function adaptForm() {
  const model = models.find((candidate) => candidate.name === modelSelect.value);
  const view = (model && views[model.view]) || {};
  textLabel.textContent = view.label || "Text";
  if (model) textInput.placeholder = model.placeholder || ""; // with no model, the page's own example stays
  textInput.rows = view.question ? 6 : 3;
  questionRow.hidden = !view.question;
  questionInput.required = Boolean(view.question);
}

function renderRaw(result) {
  return [element("pre", "", JSON.stringify(result, null, 2))];
}

async function loadModels() {
  const reply = await fetch("/models", { headers: authorization });
  if (reply.status === 401) {
    statusLine.textContent = "This server needs its token: open this page as /#token=YOUR_TOKEN.";
    return;
  }
  models = await reply.json();
  for (const model of models) {
    const option = element("option", "", `${model.name} (${model.task})`);
    option.value = model.name;
    modelSelect.appendChild(option);
  }
  if (!models.length) statusLine.textContent = "No model is loaded.";
  adaptForm();
}

async function ask(event) {
  event.preventDefault();
  const model = models.find((candidate) => candidate.name === modelSelect.value);
  const text = textInput.value;
  const view = views[model.view];
  statusLine.textContent = "";
  answer.replaceChildren();
  answer.dataset.state = "waiting";
  const request = view ? view.request(model, text) : { model: model.name, texts: [text] };
  const reply = await fetch(model.endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authorization },
    body: JSON.stringify(request),
  });
  const body = await reply.json();
  if (!reply.ok) {
    const detail = typeof body.detail === "string" ? body.detail : body.detail.map((d) => d.msg).join("; ");
    statusLine.textContent = `error ${reply.status}: ${detail}`;
    answer.dataset.state = "error";
    return;
  }
  const render = view ? view.render : renderRaw;
  answer.replaceChildren(...render(body.results[0]));
  answer.dataset.state = "done";
}

document.getElementById("ask").addEventListener("submit", ask);
modelSelect.addEventListener("change", adaptForm);
loadModels();
