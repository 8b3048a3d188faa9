// Passkeys: asks the server for WebAuthn options, lets the browser and authenticator do the
// ceremony, and sends the answer back. Buttons say what to do through data attributes:
//   data-passkey="create" | "get", data-csrf, data-status (id of a live region),
//   data-working, data-cancelled, data-failed (translated texts), data-next (for "get").
(function () {
  "use strict";
  var supported = window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";

  async function post(url, csrf, body) {
    var response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {})
    });
    var data = await response.json().catch(function () { return {}; });
    if (!response.ok) { throw new Error(data.detail || response.statusText); }
    return data;
  }

  async function create(button) {
    var options = await post("/account/passkeys/options", button.dataset.csrf);
    var credential = await navigator.credentials.create(
      {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)});
    var name = document.getElementById("passkey-name");
    return post("/account/passkeys", button.dataset.csrf,
                {credential: credential.toJSON(), name: name ? name.value : ""});
  }

  async function get(button) {
    var options = await post("/account/step-up/passkey/options", button.dataset.csrf);
    var credential = await navigator.credentials.get(
      {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
    return post("/account/step-up/passkey", button.dataset.csrf,
                {credential: credential.toJSON(), next: button.dataset.next || ""});
  }

  document.querySelectorAll("[data-passkey]").forEach(function (button) {
    var status = document.getElementById(button.dataset.status);
    if (!supported) { status.textContent = button.dataset.unsupported; return; }
    button.hidden = false;
    button.addEventListener("click", async function () {
      button.disabled = true;
      status.textContent = button.dataset.working;
      try {
        var done = await (button.dataset.passkey === "create" ? create(button) : get(button));
        window.location.assign(done.redirect);
      } catch (error) {
        // NotAllowedError: the person cancelled or the authenticator timed out
        status.textContent = error.name === "NotAllowedError" ? button.dataset.cancelled
          : button.dataset.failed + " " + error.message;
        button.disabled = false;
      }
    });
  });
})();
