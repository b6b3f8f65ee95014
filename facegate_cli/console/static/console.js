// The console's one script: local times beside UTC, the live timeline (polling with ETags), a face or clip that is
// missing says why, and a visit's clips played back to back as one film, with its faces drawn over it on request.
(function () {
  "use strict";

  // ---- local time beside UTC ---------------------------------------------------------------------------------
  function localTimes(root) {
    root.querySelectorAll(".local[data-utc]").forEach(function (span) {
      var moment = new Date(span.getAttribute("data-utc"));
      if (!isNaN(moment)) {
        span.textContent = moment.toLocaleString([], { dateStyle: "short", timeStyle: "medium" }) + " local";
      }
    });
  }
  localTimes(document);

  // ---- a face whose clip is gone: say so instead of a broken image --------------------------------------------
  // A visit is listed as soon as its device reports it, but its clips go up in one bundle once it has ended: a
  // face of a recent visit may come later (its clips answered, then the upload: tens of seconds on a slow link),
  // so a failed face is asked for again, every 2 s for half a minute, before it is called gone.
  var FACE_RETRIES = 15, FACE_RETRY_MS = 2000;
  function explainMissing(img) {
    var tries = parseInt(img.dataset.faceTries || "0", 10);
    if (tries < FACE_RETRIES) {
      img.dataset.faceTries = String(tries + 1);
      setTimeout(function () {
        img.src = img.src.replace(/&retry=\d+$/, "") + "&retry=" + (tries + 1);  // not the failed answer again
      }, FACE_RETRY_MS);
      return;
    }
    var note = document.createElement("span");
    note.className = "missing-face";
    note.textContent = "no face: clip gone";
    note.title = "The clip of this face is not in the bucket (expired or never uploaded).";
    img.replaceWith(note);
  }
  document.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target.tagName === "IMG" && target.src.indexOf("/faces?") !== -1) { explainMissing(target); }
  }, true);

  // ---- a visit as one film: two <video>s take turns, the next clip loading while the current one plays -------
  // window.facegateFilm reports what played: each clip's duration and final currentTime, and the gaps (ms) between
  // one clip's end and the next one's first frame (the browser test reads them), and how many faces are drawn now.
  function why(src, note) {
    // redirect "manual": a clip that is there redirects to S3, which this page may not fetch (connect-src 'self')
    fetch(src, { credentials: "same-origin", redirect: "manual",
                 headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (r.type === "opaqueredirect" || r.ok) { return { message: "a clip did not play in this browser" }; }
        return r.json();
      })
      .then(function (body) {
        note.hidden = false;
        note.textContent = (note.textContent ? note.textContent + " " : "") + body.message + ".";
      }).catch(function () { /* the note stays as it is */ });
  }
  // ---- "Show faces": the boxes and names of the clip on screen, over the video ----------------------------------
  // A box is in the pixels of the frame the device recognised: the clip's frame shrunk to fit `boxSide`. It is
  // scaled from there to the video's intrinsic size, then to the picture as shown (object-fit: contain centres it).
  function drawFaces(overlay, video, faces, boxSide) {
    overlay.textContent = "";
    var vw = video.videoWidth, vh = video.videoHeight;
    if (!faces || !faces.length || !vw || !vh) { return 0; }
    var shown = video.getBoundingClientRect(), frame = overlay.getBoundingClientRect();
    var scale = Math.min(shown.width / vw, shown.height / vh);
    var left = shown.left - frame.left + (shown.width - vw * scale) / 2;
    var top = shown.top - frame.top + (shown.height - vh * scale) / 2;
    var k = scale * (Math.max(vw, vh) > boxSide ? Math.max(vw, vh) / boxSide : 1);
    faces.forEach(function (face) {
      var b = face.box, box = document.createElement("div"), name = document.createElement("span");
      box.className = "face-box" + (face.name === "unknown" ? " unknown" : "");
      box.style.left = (left + b.x1 * k) + "px";
      box.style.top = (top + b.y1 * k) + "px";
      box.style.width = ((b.x2 - b.x1) * k) + "px";
      box.style.height = ((b.y2 - b.y1) * k) + "px";
      name.className = "face-name" + (top + b.y1 * k < 20 ? " below" : "");  // no room above: under the box
      name.textContent = face.name || "unknown";
      box.appendChild(name);
      overlay.appendChild(box);
    });
    return faces.length;
  }

  var film = document.getElementById("film");
  if (film) {
    var clips = JSON.parse(film.getAttribute("data-clips"));
    var parts = film.querySelectorAll("video");
    var status = film.querySelector(".film-status");
    var toggle = film.querySelector(".film-toggle");
    var note = film.querySelector(".film-notes");
    var overlay = film.querySelector(".film-faces");
    var showFaces = film.querySelector(".film-faces-toggle");
    var boxSide = parseFloat(film.getAttribute("data-box-side")) || 640;
    var state = { index: parseInt(film.getAttribute("data-start"), 10) || 0, played: [], durations: [], gaps: [],
                  failed: [], done: false, faces: 0 };
    window.facegateFilm = state;
    var current = parts[0], next = parts[1], endedAt = null;
    var load = function (video, i) {
      video.setAttribute("data-index", String(i));
      if (i < clips.length) { video.src = clips[i].src; video.load(); } else { video.removeAttribute("src"); }
    };
    var faces = function () {  // redrawn on every clip change, resize and new picture size
      overlay.hidden = !showFaces.checked;
      if (showFaces.checked) { state.faces = drawFaces(overlay, current, clips[state.index].faces, boxSide); }
      else { overlay.textContent = ""; state.faces = 0; }
    };
    var label = function () {
      faces();
      status.textContent = state.done ? "Played " + (clips.length - state.failed.length) + " of " + clips.length + " clip(s)" :
        "Clip " + (state.index + 1) + " of " + clips.length + " · " + clips[state.index].label;
    };
    var advance = function () {
      var skipped = state.failed.indexOf(state.index) !== -1;  // a clip that would not load counts as nothing
      state.played[state.index] = skipped ? 0 : current.currentTime;
      state.durations[state.index] = skipped ? 0 : current.duration;
      endedAt = performance.now();
      if (state.index + 1 >= clips.length) { state.done = true; toggle.textContent = "Play again"; label(); return; }
      state.index += 1;
      var previous = current;
      current = next; next = previous;
      current.hidden = false; current.removeAttribute("aria-hidden");
      previous.hidden = true; previous.setAttribute("aria-hidden", "true");
      label();
      load(previous, state.index + 1);
      if (state.failed.indexOf(state.index) !== -1) { advance(); return; }
      current.play().catch(function () { /* an error event follows */ });
    };
    parts.forEach(function (video) {
      video.addEventListener("loadedmetadata", function () { if (video === current) { faces(); } });
      video.addEventListener("ended", function () { if (video === current) { advance(); } });
      video.addEventListener("playing", function () {
        if (video === current && endedAt !== null) { state.gaps.push(performance.now() - endedAt); endedAt = null; }
      });
      video.addEventListener("error", function () {
        var i = parseInt(video.getAttribute("data-index"), 10);
        if (isNaN(i) || i >= clips.length || state.failed.indexOf(i) !== -1) { return; }
        state.failed.push(i);
        why(clips[i].src, note);
        if (video === current) { advance(); }
      });
    });
    toggle.addEventListener("click", function () {
      if (state.done) {
        state.done = false; state.index = 0; state.played = []; state.durations = []; state.gaps = [];
        load(current, 0); load(next, 1); current.play(); toggle.textContent = "Pause"; label();
      } else if (current.paused) { current.play(); toggle.textContent = "Pause"; } else { current.pause(); toggle.textContent = "Play"; }
    });
    showFaces.addEventListener("change", faces);
    window.addEventListener("resize", faces);
    if (window.ResizeObserver) { new ResizeObserver(faces).observe(film.querySelector(".film-frame")); }
    load(current, state.index);
    load(next, state.index + 1);
    label();
    current.play().catch(function () { toggle.textContent = "Play"; });
  }

  // ---- the live timeline ---------------------------------------------------------------------------------------
  var list = document.querySelector("[data-live]");
  if (list) {
    var every = parseInt(list.getAttribute("data-every"), 10) || 3000;
    var busy = false;
    var etag = null;
    var refresh = function () {
      if (busy || document.hidden) { return; }
      busy = true;
      var headers = { "Accept": "text/html", "X-Requested-With": "fetch" };
      if (etag) { headers["If-None-Match"] = etag; }
      fetch(list.getAttribute("data-live"), { credentials: "same-origin", headers: headers, cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) {
            window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
            return null;
          }
          if (!response.ok) { return null; }  // 304: unchanged
          etag = response.headers.get("ETag");
          return response.text();
        }).then(function (html) {
          if (html) { list.innerHTML = html; localTimes(list); }
        }).catch(function () { /* the next tick tries again */ }).then(function () { busy = false; });
    };
    setInterval(refresh, every);
  }
}());
