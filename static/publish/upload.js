// Browser upload of a release (publisher's console). No inline script, no CDN.
// S3 storage: every file is a multipart upload; the portal presigns each part and this
// script PUTs the part straight to the bucket, then reports its ETag. Local storage: the
// script posts chunks to the portal at the offset it already holds. An upload is resumable:
// its id is kept in localStorage under the model, version and file list, and the portal
// says which parts or bytes it already has.
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const errorBox = document.getElementById("upload-error");
  const startUrl = form.dataset.startUrl;

  async function call(url, options) {
    const response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { "X-CSRFToken": csrf, ...(options && options.headers) },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (body.error && body.error.message) || `The portal answered ${response.status}.`;
      throw new Error(message);
    }
    return body;
  }

  function post(url, data) {
    const body = new URLSearchParams(data || {});
    return call(url, { method: "POST", body });
  }

  async function putWithRetry(url, blob) {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(url, { method: "PUT", body: blob });
        if (!response.ok) throw new Error(`The storage answered ${response.status}.`);
        const etag = response.headers.get("ETag");
        if (!etag) throw new Error("The storage did not expose the part's ETag (check the bucket's CORS rules).");
        return etag;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  function key(version, files) {
    return "accessgate-upload:" + startUrl + ":" + version + ":" + files.map((f) => f.name + "/" + f.size).join("|");
  }

  async function uploadFile(base, state, entry, file, progress) {
    const fileUrl = `${base}files/${entry.id}/`;
    if (entry.completed) {
      progress(entry.size);
      return;
    }
    if (state.backend === "s3") {
      const done = new Set(entry.parts_done);
      for (let n = 1; n <= entry.part_count; n++) {
        const start = (n - 1) * state.part_size;
        const blob = file.slice(start, Math.min(start + state.part_size, file.size));
        if (!done.has(n)) {
          const { url } = await post(`${fileUrl}parts/${n}/`);
          const etag = await putWithRetry(url, blob);
          await post(`${fileUrl}parts/${n}/`, { etag });
        }
        progress(blob.size);
      }
    } else {
      let offset = entry.bytes_received;
      progress(offset);
      while (offset < file.size) {
        const blob = file.slice(offset, Math.min(offset + state.chunk_size, file.size));
        const body = await call(`${fileUrl}chunk/?offset=${offset}`, {
          method: "POST",
          body: blob,
          headers: { "Content-Type": "application/octet-stream" },
        });
        progress(body.bytes_received - offset);
        offset = body.bytes_received;
      }
    }
    await post(`${fileUrl}complete/`);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    const version = form.elements.version.value.trim();
    const files = Array.from(form.elements.files.files);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const storageKey = key(version, files);
      let state = null;
      const saved = window.localStorage.getItem(storageKey);
      if (saved) {
        state = await call(`${startUrl}${saved}/`).catch(() => null);
        if (state && state.status !== "open") state = null;
      }
      if (!state) {
        state = await call(startUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            version,
            notes: form.elements.notes.value,
            files: files.map((f) => ({ path: f.name, size: f.size })),
          }),
        });
        window.localStorage.setItem(storageKey, String(state.id));
      }
      const base = `${startUrl}${state.id}/`;
      const total = files.reduce((sum, f) => sum + f.size, 0) || 1;
      let sent = 0;
      bar.hidden = false;
      const progress = (bytes) => {
        sent += bytes;
        bar.value = Math.round((100 * sent) / total);
        status.textContent = `Uploaded ${bar.value}% (${sent} of ${total} bytes)`;
      };
      for (const entry of state.files) {
        const file = files.find((f) => f.name === entry.path);
        status.textContent = `Uploading ${entry.path}…`;
        await uploadFile(base, state, entry, file, progress);
      }
      status.textContent = "Every file is uploaded; importing…";
      const finished = await post(`${base}finish/`);
      window.localStorage.removeItem(storageKey);
      window.location.assign(finished.redirect);
    } catch (error) {
      errorBox.textContent = error.message + " Submit again to resume.";
      button.disabled = false;
    }
  });
})();
