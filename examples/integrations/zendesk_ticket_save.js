// SKETCH, NOT RUNNABLE HERE: a Zendesk Support app (ZAF v2, ticket_sidebar location) that lints
// the agent's reply with `replylint serve` when they press Submit, blocks it on errors and shows
// warnings. Zendesk apps run in the agent's browser; nothing in this repository can run one.
//
// Setup (see docs/hook.md):
//   - run `replylint serve` behind HTTPS where Zendesk's request proxy can reach it;
//   - give the app two settings in manifest.json: `replylintUrl` and `replylintToken`
//     (the token setting marked "secure": true, so it is only ever filled in on Zendesk's proxy);
//   - load the ZAF SDK: https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js
//
// ZAF facts this relies on: `client.on('ticket.save', fn)` runs fn before the ticket is saved;
// if fn returns a promise that rejects with a string, the save is cancelled and that string is
// shown to the agent; `client.get('ticket.comment')` reads the reply being written;
// `client.request({... secure: true})` goes through Zendesk's proxy, which fills in
// `{{setting.replylintToken}}` (so the token never reaches the browser, and no CORS is needed).

var FAIL_OPEN = true; // replylint unreachable (network, timeout, 5xx): let the reply go
var client = ZAFClient.init();

client.on("ticket.save", function () {
  return Promise.all([client.get("ticket.comment"), client.metadata(), client.get("currentUser.name")])
    .then(function (results) {
      var comment = results[0]["ticket.comment"];
      var settings = results[1].settings;
      var agent = results[2]["currentUser.name"];
      if (!comment || !comment.text || comment.type !== "publicReply") {
        return true; // internal notes and empty comments are not replies to a customer
      }
      return client.request({
        url: settings.replylintUrl + "/v1/check",
        type: "POST",
        contentType: "application/json",
        headers: { Authorization: "Bearer {{setting.replylintToken}}" },
        secure: true,
        timeout: 2000,
        data: JSON.stringify({
          text: htmlToText(comment.text),
          context: { channel: "email", agent: agent, public: true },
        }),
      }).then(function (report) {
        if (report.decision === "block") {
          return Promise.reject(report.message); // cancels the save; Zendesk shows the sentence
        }
        if (report.decision === "warn" || report.incomplete) {
          client.invoke("notify", report.message, "alert");
        }
        return true;
      }, function (error) {
        if (refused(error.status)) { // e.g. 413: too long to check; never send it unchecked
          return Promise.reject("This reply could not be checked: " + problemDetail(error.responseText, error.status));
        }
        if (FAIL_OPEN) {
          client.invoke("notify", "replylint is unavailable; the reply was not checked.", "alert");
          return true;
        }
        return Promise.reject("replylint is unavailable; try again in a moment.");
      });
    });
});

// A 4xx means replylint refused this request (too long, bad token, ...): retrying will not
// help, so the reply is blocked with the reason. Network errors (status 0), timeouts, 408, 429
// and 5xx mean replylint is unavailable: FAIL_OPEN decides.
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
