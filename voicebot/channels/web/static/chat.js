// voicebot browser chat: hold to talk, hear the answer, see the goods. Vanilla JS, no build step.
// Protocol: see voicebot/channels/web/protocol.py. Clips wait in `outbox` until the server says
// `received`, so a reconnect (or coming back online) sends them again under the same id.
"use strict";
(() => {
  const page = JSON.parse(document.body.dataset.page);
  const base = location.pathname.replace(/\/+$/, "");
  const $ = (id) => document.getElementById(id);
  const log = $("log"), talk = $("talk"), player = $("player"), net = $("net"), hear = $("hear");
  const outbox = new Map();      // id -> {header, blob | json} not yet acknowledged
  const bubbles = new Map();     // id -> my message element
  const playQueue = [];
  const seenKey = "voicebot.seen." + base;  // the last reply this page has shown, across reloads
  const seen = new Set();
  const greetedKey = "voicebot.greeted." + base;  // when this tab last heard the greeting (a reload is not news)
  const REGREET_MS = 10 * 60 * 1000;
  const state = { ws: null, online: navigator.onLine, retry: 0, events: [], stream: null, recorder: null,
                  greeted: false, waiting: null };
  window.voicebotChat = state;   // tests and curious operators can look inside
  if (page.village && page.role === "buyer") $("home").hidden = false;  // back to the market of many shops

  // -- connection ------------------------------------------------------------------------
  function connect() {
    if (state.ws || !state.online) return;
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + base + "/ws");
    state.ws = ws;
    ws.onopen = () => {
      state.retry = 0; net.classList.add("online");
      // the greeting is asked for until it came: a reconnect later in this page does not say it again
      ws.send(JSON.stringify({ type: "hello", after: Number(localStorage.getItem(seenKey) || 0), greet: !state.greeted }));
      flush();
    };
    ws.onmessage = (e) => { try { onEvent(JSON.parse(e.data)); } catch (err) { console.error(err); } };
    ws.onclose = () => {
      state.ws = null; net.classList.remove("online");
      if (state.online) setTimeout(connect, Math.min(10000, 500 * 2 ** state.retry++));
    };
  }
  function flush(again) {  // send what this socket has not carried yet (all of it on a new socket)
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    for (const item of outbox.values()) {
      if (item.ws === ws && !again) continue;
      item.ws = ws;
      ws.send(item.blob ? new Blob([JSON.stringify(item.header) + "\n", item.blob]) : JSON.stringify(item.header));
    }
  }
  function send(header, blob) {
    outbox.set(header.id, { header, blob });
    flush();
  }
  window.addEventListener("offline", () => { state.online = false; if (state.ws) state.ws.close(); });
  window.addEventListener("online", () => { state.online = true; connect(); });

  // -- events from the server --------------------------------------------------------------
  function onEvent(ev) {
    state.events.push(ev);
    if (state.events.length > 1000) state.events.shift();
    if (ev.type === "welcome" || ev.type === "products") products(ev.products || []);
    else if (ev.type === "greeting") greeting(ev);
    else if (ev.type === "received") {
      outbox.delete(ev.id);
      const el = bubbles.get(ev.id);
      if (el) el.classList.remove("pending");
    } else if (ev.type === "heard") {
      const el = bubbles.get(ev.id);
      if (el) el.querySelector(".caption").textContent = ev.text || "…";
    } else if (ev.type === "reply") reply(ev);
    else if (ev.type === "error") {
      if (ev.code === "slow_down") { setTimeout(() => flush(true), 5000); return; }  // kept: sent again later
      if (ev.id) {  // this message was refused: show it and say so, never stay silent
        outbox.delete(ev.id);
        const el = bubbles.get(ev.id);
        if (el) { el.classList.remove("pending"); el.classList.add("failed"); }
        playQueue.length = 0; player.src = `${base}/say/failed`; player.play().catch(() => {});
      }
      console.warn("voicebot:", ev.code, ev.message);
    }
  }

  function reply(ev) {
    if (seen.has(ev.outbox_id)) return;  // sent again after a reconnect: already shown
    seen.add(ev.outbox_id);
    if (ev.outbox_id > Number(localStorage.getItem(seenKey) || 0)) localStorage.setItem(seenKey, ev.outbox_id);
    if (ev.id && bubbles.get(ev.id) && ev.heard) bubbles.get(ev.id).querySelector(".caption").textContent = ev.heard;
    const el = document.createElement("div");
    el.className = "msg bot" + (ev.notification ? " note" : "");
    el.dataset.outbox = ev.outbox_id;
    if (ev.kind === "image" && ev.image_url) {
      const img = document.createElement("img");
      img.className = "photo"; img.src = ev.image_url; img.alt = "";
      el.append(img);
    } else if (ev.kind === "voice" && ev.audio_url) {
      const b = voiceBubble(ev.audio_url);
      el.append(b, caption(ev.text));
      playQueue.push(b);
      if (player.paused && !state.waiting) playNext();
    } else {
      el.append(caption(ev.text));
    }
    log.append(el);
    log.scrollTop = log.scrollHeight;
  }

  function greeting(ev) {
    if (state.greeted) return;
    state.greeted = true;
    const el = document.createElement("div");
    el.className = "msg bot greeting";
    const b = voiceBubble(ev.audio_url);
    el.append(b, caption(ev.text));
    log.prepend(el);
    const last = Number(sessionStorage.getItem(greetedKey) || 0);
    if (Date.now() - last < REGREET_MS) return;  // heard it a moment ago in this tab: there to tap, not said again
    b.dataset.greeting = "1";
    playQueue.unshift(b);
    if (player.paused && !state.waiting) playNext();
  }

  function caption(text) {
    const c = document.createElement("div");
    c.className = "caption"; c.textContent = text || "";
    return c;
  }

  function voiceBubble(url, seconds) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "bubble voice"; b.dataset.src = url;
    b.innerHTML = '<span class="icon icon-speaker" aria-hidden="true"></span><span class="len"></span>';
    const len = b.querySelector(".len");
    const show = (s) => { len.textContent = Math.max(1, Math.round(s)) + "″"; };
    if (seconds) show(seconds);
    else {
      const probe = new Audio(); probe.preload = "metadata"; probe.src = url;
      probe.onloadedmetadata = () => { if (isFinite(probe.duration)) show(probe.duration); };
    }
    b.addEventListener("click", () => { playQueue.length = 0; play(b); });
    return b;
  }

  function play(b) {
    document.querySelectorAll(".bubble.playing").forEach((x) => x.classList.remove("playing"));
    b.classList.add("playing");
    hear.hidden = true; state.waiting = null;
    player.src = b.dataset.src;
    if (b.dataset.greeting) sessionStorage.setItem(greetedKey, String(Date.now()));
    player.play().catch((e) => {
      b.classList.remove("playing");
      if (e && e.name === "NotAllowedError") wait(b);  // the browser wants a tap before any sound
      else console.warn("voicebot: cannot play", e);
    });
  }
  // Sound the browser would not play yet: one big pulsing speaker; a tap plays it and what queued behind it.
  function wait(b) {
    state.waiting = b;
    if (b.dataset.greeting) sessionStorage.removeItem(greetedKey);  // not heard yet
    hear.hidden = false;
  }
  hear.addEventListener("click", () => { const b = state.waiting; hear.hidden = true; if (b) play(b); });
  function playNext() { const b = playQueue.shift(); if (b) play(b); }
  player.addEventListener("ended", () => {
    document.querySelectorAll(".bubble.playing").forEach((x) => x.classList.remove("playing"));
    playNext();
  });
  player.addEventListener("error", () => playNext());

  // -- product cards ----------------------------------------------------------------------
  function products(list) {
    const box = $("products");
    box.textContent = "";
    box.hidden = list.length === 0;
    for (const p of list) {
      const card = document.createElement("div");
      card.className = "card"; card.dataset.product = p.id;
      const pic = p.photo_url ? Object.assign(document.createElement("img"), { src: p.photo_url, alt: p.name })
        : Object.assign(document.createElement("div"), { className: "nophoto" });
      const name = Object.assign(document.createElement("div"), { className: "name", textContent: `${p.name} · ${p.price_text}` });
      const row = Object.assign(document.createElement("div"), { className: "row" });
      const speak = Object.assign(document.createElement("button"), { type: "button", className: "speak" });
      speak.innerHTML = '<span class="icon icon-speaker" aria-hidden="true"></span>';
      speak.setAttribute("aria-label", "say name and price");
      const sayPrice = () => { playQueue.length = 0; hear.hidden = true; player.src = `${base}/say/product-${p.id}`; player.play(); };
      speak.addEventListener("click", sayPrice);
      pic.addEventListener("click", sayPrice);  // the photo is the biggest thing to tap
      const order = Object.assign(document.createElement("button"), { type: "button", className: "order" });
      order.innerHTML = '<span class="icon icon-cart" aria-hidden="true"></span>';
      order.setAttribute("aria-label", "order");
      order.addEventListener("click", () => {
        const id = newId("o");
        const el = document.createElement("div");
        el.className = "msg me pending"; el.dataset.id = id;
        const b = Object.assign(document.createElement("div"), { className: "bubble order-bubble" });
        b.innerHTML = '<span class="icon icon-cart-dark" aria-hidden="true"></span>';
        if (p.photo_url) b.append(Object.assign(document.createElement("img"), { src: p.photo_url, alt: "" }));
        el.append(b, caption(p.name));
        bubbles.set(id, el);
        log.append(el); log.scrollTop = log.scrollHeight;
        send({ type: "order", id, product_id: p.id });
      });
      row.append(speak, order);
      card.append(pic, name, row);
      box.append(card);
    }
  }

  // -- hold to talk -----------------------------------------------------------------------
  function newId(prefix) {
    const r = crypto.getRandomValues(new Uint8Array(9));
    return prefix + "-" + Array.from(r, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function micRefused(err) {
    const a = $("alert");
    a.textContent = page.texts.mic_refused; a.hidden = false;
    state.micError = String(err && err.name || err);
    player.src = `${base}/say/mic_refused`;
    player.play().catch(() => {});
  }

  let hold = null;  // {start, y, cancel, chunks, timer}
  async function startHold(e) {
    e.preventDefault();
    if (hold) return;
    hear.hidden = true; state.waiting = null;  // she is talking: the waiting sound stays in its bubble
    hold = { start: performance.now(), y: e.clientY, cancel: false, chunks: [], released: false };
    talk.setPointerCapture && e.pointerId !== undefined && talk.setPointerCapture(e.pointerId);
    const h = hold;
    try {
      if (!state.stream) state.stream = await navigator.mediaDevices.getUserMedia(
        { audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 } });
    } catch (err) { hold = null; micRefused(err); return; }
    if (h.released) { hold = null; return; }
    $("alert").hidden = true;
    const rec = new MediaRecorder(state.stream);
    h.rec = rec;
    rec.ondataavailable = (ev) => { if (ev.data && ev.data.size) h.chunks.push(ev.data); };
    rec.onstop = () => finish(h, rec.mimeType);
    rec.start();
    h.start = performance.now();
    talk.classList.add("held");
    $("recording").hidden = false;
    h.timer = setInterval(() => {
      const s = (performance.now() - h.start) / 1000;
      $("rec-time").textContent = Math.round(s) + "″";
      if (s >= (page.max_seconds || 60) - 0.5) endHold();  // as long as a voice note may be
    }, 250);
  }
  function moveHold(e) {
    if (!hold) return;
    hold.cancel = hold.y - e.clientY > 80;  // slide up to cancel, as in WeChat
    talk.classList.toggle("cancel", hold.cancel);
    $("recording").classList.toggle("cancel", hold.cancel);
  }
  function endHold() {
    if (!hold) return;
    const h = hold; hold = null;
    h.released = true;
    h.seconds = (performance.now() - h.start) / 1000;
    clearInterval(h.timer);
    talk.classList.remove("held", "cancel");
    $("recording").hidden = true; $("recording").classList.remove("cancel");
    if (h.rec && h.rec.state !== "inactive") h.rec.stop();
    else releaseMic();
  }
  function releaseMic() {  // the microphone is on only while the button is held
    if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
    state.stream = null;
  }
  let offlineSpeech = null;  // fetched while online, so the page can say "kept for later" when offline
  fetch(`${base}/say/offline`).then((r) => r.ok ? r.blob() : null)
    .then((b) => { if (b) offlineSpeech = URL.createObjectURL(b); }).catch(() => {});

  function finish(h, mime) {
    releaseMic();
    if (h.cancel || h.seconds < 0.4 || !h.chunks.length) return;
    const blob = new Blob(h.chunks, { type: mime || h.chunks[0].type });
    const id = newId("c");
    const el = document.createElement("div");
    el.className = "msg me pending"; el.dataset.id = id;
    el.append(voiceBubble(URL.createObjectURL(blob), h.seconds), caption(""));
    bubbles.set(id, el);
    log.append(el); log.scrollTop = log.scrollHeight;
    send({ type: "clip", id, mime: blob.type }, blob);
    if (!state.ws && offlineSpeech) { playQueue.length = 0; player.src = offlineSpeech; player.play().catch(() => {}); }
  }
  talk.addEventListener("pointerdown", startHold);
  talk.addEventListener("pointermove", moveHold);
  talk.addEventListener("pointerup", endHold);
  talk.addEventListener("pointercancel", () => { if (hold) { hold.cancel = true; endHold(); } });
  talk.addEventListener("contextmenu", (e) => e.preventDefault());

  connect();
})();
