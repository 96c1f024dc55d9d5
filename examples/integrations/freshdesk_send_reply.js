// SKETCH, NOT RUNNABLE HERE: a Freshdesk app (ticket details page) that intercepts the agent's
// "Send" (`ticket.sendReply`), lints the reply with `replylint serve`, blocks it on errors and
// shows warnings. Freshdesk apps run in the agent's browser; nothing in this repository can run
// one.
//
// Setup (see docs/hook.md):
//   - run `replylint serve` behind HTTPS where Freshworks' request proxy can reach it;
//   - installation parameters `replylint_url` and `replylint_token` (the token as a secure iparam),
//     and a request template `replylintCheck` in config/requests.json (platform v3):
//       { "replylintCheck": { "schema": { "method": "POST", "host": "<your host>",
//           "path": "/v1/check", "headers": { "Authorization": "Bearer <%= iparam.replylint_token %>",
//           "Content-Type": "application/json" } } } }
//
// Freshworks facts this relies on: `client.events.on(name, fn, { intercept: true })` pauses the
// event until fn calls `event.helper.done()` (let it happen) or `event.helper.fail(message)`
// (stop it; the message is shown to the agent); `event.helper.getData()` returns the event's
// payload. CHECK the payload field that holds the reply for your platform version in the
// Freshworks events-method docs: this sketch reads `text` (falling back to `body`).

var FAIL_OPEN = true; // replylint unreachable (network, timeout, 5xx): let the reply go

app.initialized().then(function (client) {
  client.events.on("ticket.sendReply", function (event) {
    var data = event.helper.getData() || {};
    var text = htmlToText(data.text || data.body || "");
    if (!text.trim()) {
      return event.helper.done();
    }
    return Promise.all([client.data.get("loggedInUser"), client.data.get("ticket")])
      .then(function (results) {
        var agent = results[0].loggedInUser.contact.name;
        var ticket = results[1].ticket;
        return client.request.invokeTemplate("replylintCheck", {
          body: JSON.stringify({
            text: text,
            context: { channel: "email", agent: agent, public: true, ticket: String(ticket.id) },
          }),
        });
      })
      .then(function (response) {
        var report = JSON.parse(response.response);
        if (report.decision === "block") {
          return event.helper.fail(report.message); // the reply is not sent
        }
        if (report.decision === "warn" || report.incomplete) {
          client.interface.trigger("showNotify", { type: "warning", message: report.message });
        }
        return event.helper.done();
      })
      .catch(function (error) {
        if (error && refused(error.status)) { // e.g. 413: too long to check; never send it unchecked
          return event.helper.fail("This reply could not be checked: " + problemDetail(error.response, error.status));
        }
        if (FAIL_OPEN) {
          client.interface.trigger("showNotify", {
            type: "warning", message: "replylint is unavailable; the reply was not checked." });
          return event.helper.done();
        }
        return event.helper.fail("replylint is unavailable; try again in a moment.");
      });
  }, { intercept: true });
});

// A 4xx means replylint refused this request (too long, bad token, ...): retrying will not
// help, so the reply is blocked with the reason. Network errors, timeouts (Freshworks reports
// them as 502/504), 408, 429 and 5xx mean replylint is unavailable: FAIL_OPEN decides.
function refused(status) {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function problemDetail(body, status) {
  try {
    return JSON.parse(body).detail + ".";
  } catch (e) {
    return "HTTP " + status + ".";
  }
}

// Parse the HTML in an inert document (no scripts, no image loads) and read textContent, with
// line breaks and block ends made newlines first: innerText of a detached element has no
// layout, so "Hi Dana,<br>you should buy" would read "Hi Danayou should buy" and slip through.
function htmlToText(html) {
  var marked = String(html).replace(/<br\s*\/?>|<\/(?:p|div|li|tr|h[1-6]|blockquote)\s*>/gi, "\n$&");
  return new DOMParser().parseFromString(marked, "text/html").body.textContent || "";
}
