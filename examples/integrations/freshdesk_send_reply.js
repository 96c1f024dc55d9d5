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

var FAIL_OPEN = true; // if replylint is unreachable, let the reply go

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
        if (report.decision === "warn") {
          client.interface.trigger("showNotify", { type: "warning", message: report.message });
        }
        return event.helper.done();
      })
      .catch(function () {
        if (FAIL_OPEN) {
          client.interface.trigger("showNotify", {
            type: "warning", message: "replylint is unavailable; the reply was not checked." });
          return event.helper.done();
        }
        return event.helper.fail("replylint is unavailable; try again in a moment.");
      });
  }, { intercept: true });
});

function htmlToText(html) {
  var div = document.createElement("div");
  div.innerHTML = html;
  return div.innerText;
}
