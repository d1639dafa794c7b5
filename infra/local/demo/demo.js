// The local demo page: a session, images added three ways (files, a drawing, a URL), and a typed
// chat that reaches the Custom LLM endpoint exactly as ElevenLabs would. Plain browser JS, no build.
// The only secret it ever holds is the session secret POST /sessions returned, kept in memory.

const SYSTEM_PROMPT = 'You are a helpful voice assistant. You can see the images the user shares.';
const ELEVENLABS_CLIENT = 'https://esm.sh/@elevenlabs/client';

const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
};

/** An API failure with the server's own words (its OpenAI-style error message and code). */
class ApiError extends Error {
  constructor(message, code = null) {
    super(message);
    this.code = code;
  }
}

const state = {
  /** {sessionId, sessionSecret, uploadUrl, elevenLabs} from POST /sessions. */
  session: null,
  history: [{ role: 'system', content: SYSTEM_PROMPT }],
  chatBusy: false,
  conversation: null,
  canvasDirty: false,
};

function setStatus(el, text, bad = false) {
  el.textContent = text;
  el.classList.toggle('bad', bad);
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** Reads a JSON answer; a non-2xx becomes an ApiError carrying `error.message`. */
async function readJson(res, what) {
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below with the raw text.
  }
  if (!res.ok) {
    const err = body?.error;
    if (err?.message) throw new ApiError(err.message, err.code ?? null);
    throw new ApiError(`${what} failed: HTTP ${res.status} ${text.slice(0, 200)}`);
  }
  return body;
}

/** A call to the browser API (same origin locally), with the session secret when there is one. */
async function api(path, body) {
  const headers = { 'content-type': 'application/json' };
  if (state.session) headers['x-session-secret'] = state.session.sessionSecret;
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  } catch (err) {
    throw new ApiError(`Could not reach the server (${err.message}).`);
  }
  return readJson(res, `POST ${path}`);
}

// ---------------------------------------------------------------- session

async function createSession() {
  const out = $('session-id');
  try {
    state.session = await api('/sessions', {});
    out.textContent = state.session.sessionId;
    document.body.dataset.session = 'ready';
    if (state.session.elevenLabs?.conversationToken) $('voice').hidden = false;
  } catch (err) {
    out.textContent = 'none';
    setStatus($('page-status'), `Could not create a session: ${err.message}`, true);
  }
}

function requireSession() {
  if (state.session) return true;
  setStatus($('page-status'), 'There is no session (see above); reload the page to try again.', true);
  return false;
}

// ---------------------------------------------------------------- images

/** One line in the image list; returns a function that updates it. */
function addImageRow(name, previewBlob) {
  const li = document.createElement('li');
  const placeholder = document.createElement('span');
  placeholder.className = 'thumb';
  let thumb = placeholder;
  if (previewBlob) {
    const url = URL.createObjectURL(previewBlob);
    thumb = document.createElement('img');
    thumb.className = 'thumb';
    thumb.alt = '';
    thumb.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
    // Not something the browser can show (maybe not an image at all): an empty square instead.
    thumb.addEventListener(
      'error',
      () => {
        URL.revokeObjectURL(url);
        thumb.replaceWith(placeholder);
      },
      { once: true },
    );
    thumb.src = url;
  }
  const text = document.createElement('div');
  const title = document.createElement('div');
  title.className = 'name';
  title.textContent = name;
  const stateLine = document.createElement('div');
  stateLine.className = 'state';
  text.append(title, stateLine);
  li.append(thumb, text);
  $('images').append(li);
  return (status, message) => {
    li.dataset.status = status;
    stateLine.textContent = message;
    return li;
  };
}

function showResult(update, result) {
  const parts = [`Ready · ${result.width} × ${result.height} px · ${formatBytes(result.bytes)}`];
  if (result.sourceBytes) parts.push(`(original ${formatBytes(result.sourceBytes)})`);
  if (result.deduplicatedFrom) parts.push('· same as an earlier image');
  const li = update('ready', parts.join(' '));
  li.dataset.imageId = result.imageId;
  li.dataset.width = String(result.width);
  li.dataset.height = String(result.height);
  if (result.slot) {
    // A slot holds one image: the older ones no longer reach the model.
    for (const older of document.querySelectorAll(`#images li[data-slot="${CSS.escape(result.slot)}"]`)) {
      if (older !== li && older.dataset.status === 'ready') {
        older.dataset.status = 'replaced';
        older.querySelector('.state').textContent += ' · replaced by a newer one';
      }
    }
    li.dataset.slot = result.slot;
  }
}

function showFailure(update, err) {
  const code = err.code ? ` (${err.code})` : '';
  update('error', `Refused: ${err.message}${code}`);
}

/** The text of an S3 XML error (`<Message>...</Message>`), or the start of the body. */
function s3Message(xml) {
  const m = /<Message>([\s\S]*?)<\/Message>/.exec(xml);
  return m ? m[1] : xml.slice(0, 200);
}

/** Presigned POST straight to S3 (the local emulator), then `.../complete`, which normalizes. */
async function uploadBlob(blob, name, slot) {
  if (!requireSession()) return;
  const update = addImageRow(name, blob);
  update('uploading', 'Asking for an upload form…');
  try {
    const form = await api(state.session.uploadUrl, {
      contentType: blob.type,
      contentLength: blob.size,
      ...(slot ? { slot } : {}),
    });
    update('uploading', `Uploading ${formatBytes(blob.size)} to storage…`);
    const data = new FormData();
    for (const [key, value] of Object.entries(form.upload.fields)) data.append(key, value);
    data.append('file', blob, name);
    let res;
    try {
      res = await fetch(form.upload.url, { method: 'POST', body: data });
    } catch (err) {
      throw new ApiError(
        `Could not reach storage at ${new URL(form.upload.url).origin} (${err.message}; is its CORS configured for this page?).`,
      );
    }
    if (!res.ok)
      throw new ApiError(`Storage refused the upload: ${s3Message(await res.text())} (HTTP ${res.status}).`);
    update('processing', 'Checking and normalizing…');
    const result = await api(`${state.session.uploadUrl}/${encodeURIComponent(form.imageId)}/complete`);
    showResult(update, result);
  } catch (err) {
    showFailure(update, err);
  }
}

async function addFromUrl(url) {
  if (!requireSession()) return;
  const update = addImageRow(url, null);
  update('processing', 'The server is fetching it…');
  try {
    showResult(update, await api(state.session.uploadUrl, { url }));
  } catch (err) {
    showFailure(update, err);
  }
}

function addFiles(files) {
  for (const file of files) void uploadBlob(file, file.name, undefined);
}

function setUpFiles() {
  const input = $('file-input');
  input.addEventListener('change', () => {
    addFiles([...input.files]);
    input.value = '';
  });
  const zone = $('drop-zone');
  // A file dropped anywhere else must not navigate away from the page.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    addFiles([...(e.dataTransfer?.files ?? [])]);
  });
}

function setUpUrl() {
  const form = $('url-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('url-input');
    void addFromUrl(input.value.trim());
    input.value = '';
  });
}

// ---------------------------------------------------------------- drawing

function setUpCanvas() {
  const canvas = $('canvas');
  const ctx = canvas.getContext('2d');
  const send = $('send-canvas');
  const clear = () => {
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    state.canvasDirty = false;
    send.disabled = true;
  };
  clear();
  let last = null;
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) * canvas.width) / r.width,
      y: ((e.clientY - r.top) * canvas.height) / r.height,
    };
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = point(e);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = point(e);
    ctx.strokeStyle = $('pen-colour').value;
    ctx.lineWidth = 6;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
    state.canvasDirty = true;
    send.disabled = false;
  });
  const stop = () => {
    last = null;
  };
  canvas.addEventListener('pointerup', stop);
  canvas.addEventListener('pointercancel', stop);
  $('clear-canvas').addEventListener('click', clear);
  send.addEventListener('click', async () => {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) {
      setStatus($('page-status'), 'The browser could not export the drawing.', true);
      return;
    }
    await uploadBlob(blob, 'drawing.png', 'canvas');
  });
}

// ---------------------------------------------------------------- chat

function addMessage(kind, text) {
  const div = document.createElement('div');
  div.className = `msg ${kind}`;
  div.textContent = text;
  $('transcript').append(div);
  div.scrollIntoView({ block: 'nearest' });
  return div;
}

/** Yields the `data:` payloads of a server-sent event stream read from a fetch body. */
async function* sseData(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r/g, '');
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data) yield data;
      end = buffer.indexOf('\n\n');
    }
  }
}

async function sendChat(text) {
  state.history.push({ role: 'user', content: text });
  addMessage('user', text);
  const bubble = addMessage('assistant', '');
  bubble.setAttribute('aria-busy', 'true');
  let answer = '';
  try {
    let res;
    try {
      res = await fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: $('model-input').value.trim(),
          stream: true,
          messages: state.history,
          elevenlabs_extra_body: { session_id: state.session?.sessionId },
        }),
      });
    } catch (err) {
      throw new ApiError(`Could not reach the chat endpoint (${err.message}).`);
    }
    if (!res.ok) await readJson(res, 'The chat turn');
    if (!res.body) throw new ApiError('The chat endpoint answered without a body.');
    let finished = false;
    for await (const data of sseData(res.body)) {
      if (data === '[DONE]') {
        finished = true;
        break;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) throw new ApiError(chunk.error.message, chunk.error.code ?? null);
      const delta = chunk.choices?.[0]?.delta?.content;
      if (delta) {
        answer += delta;
        bubble.textContent = answer;
      }
    }
    if (!finished) throw new ApiError('The stream ended before [DONE].');
    state.history.push({ role: 'assistant', content: answer });
  } catch (err) {
    if (!answer) bubble.remove();
    addMessage('error', `${err.message}${err.code ? ` (${err.code})` : ''}`);
    // A failed turn is not part of the conversation: the next try sends the same history.
    if (!answer) state.history.pop();
    else state.history.push({ role: 'assistant', content: answer });
  } finally {
    bubble.removeAttribute('aria-busy');
  }
}

function setUpChat() {
  const form = $('chat-form');
  const input = $('chat-input');
  const button = $('chat-send');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || state.chatBusy || !requireSession()) return;
    state.chatBusy = true;
    button.disabled = true;
    input.value = '';
    try {
      await sendChat(text);
    } finally {
      state.chatBusy = false;
      button.disabled = false;
      input.focus();
    }
  });
  // Enter sends, Shift+Enter starts a new line.
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

// ---------------------------------------------------------------- voice (ElevenLabs agent configured)

function setUpVoice() {
  const button = $('voice-button');
  const status = $('voice-status');
  button.addEventListener('click', async () => {
    if (state.conversation) {
      await state.conversation.endSession();
      return;
    }
    const creds = state.session?.elevenLabs;
    if (!creds?.conversationToken) return;
    button.disabled = true;
    setStatus(status, 'Loading the ElevenLabs client…');
    try {
      const { Conversation } = await import(ELEVENLABS_CLIENT);
      const sessionId = state.session.sessionId;
      state.conversation = await Conversation.startSession({
        conversationToken: creds.conversationToken,
        customLlmExtraBody: creds.customLlmExtraBody ?? { session_id: sessionId },
        onConnect: ({ conversationId }) => {
          setStatus(status, 'Connected: speak now.');
          api(`/sessions/${encodeURIComponent(sessionId)}/link`, { conversationId }).catch((err) =>
            setStatus(status, `Connected, but linking the conversation failed: ${err.message}`, true),
          );
        },
        onMessage: ({ message, source }) => addMessage(source === 'user' ? 'user' : 'assistant', message),
        onError: (message) => setStatus(status, `Voice error: ${message}`, true),
        onDisconnect: () => {
          state.conversation = null;
          // The conversation token is single-use: a new conversation needs a new session.
          button.textContent = 'Start voice';
          button.disabled = true;
          setStatus(status, 'Ended. Reload the page for a new voice conversation.');
        },
      });
      button.textContent = 'Stop voice';
      button.disabled = false;
    } catch (err) {
      button.disabled = false;
      setStatus(status, `Could not start voice: ${err.message}`, true);
    }
  });
}

setUpFiles();
setUpUrl();
setUpCanvas();
setUpChat();
setUpVoice();
void createSession();
