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

var FAIL_OPEN = true; // if replylint is unreachable, let the reply go (as GetStream does)
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
        if (report.decision === "warn") {
          client.invoke("notify", report.message, "alert");
        }
        return true;
      }, function (error) {
        if (FAIL_OPEN) {
          client.invoke("notify", "replylint is unavailable; the reply was not checked.", "alert");
          return true;
        }
        return Promise.reject("replylint is unavailable; try again in a moment.");
      });
    });
});

function htmlToText(html) {
  var div = document.createElement("div");
  div.innerHTML = html;
  return div.innerText;
}
