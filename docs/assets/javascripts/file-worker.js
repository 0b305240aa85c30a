// A Worker for pages opened from file://, where browsers refuse to start a real one.
//
// The site's search runs in a Web Worker. From file:// a worker cannot load, so this stands in
// for `Worker` there: the worker's script runs in a hidden iframe of the page, its
// `postMessage` reaches the page and the page's reaches it, and `importScripts` loads each
// script in turn. Served over http(s), the real Worker is left alone. Material for MkDocs' offline
// plugin takes any polyfill whose name holds "iframe-worker" as its shim (mkdocs.yml names this one).
"use strict";
(function () {
  if (location.protocol !== "file:") {
    return;
  }

  // Run in the iframe: the worker's globals, as a worker has them.
  function workerPost(data) {
    parent.postMessage(data, "*");
  }
  function workerImport() {
    var urls = Array.prototype.slice.call(arguments);
    return urls.reduce(function (done, url) {
      return done.then(function () {
        return new Promise(function (resolve, reject) {
          var script = document.createElement("script");
          script.src = url;
          script.onload = resolve;
          script.onerror = reject;
          document.body.appendChild(script);
        });
      });
    }, Promise.resolve());
  }

  class FileWorker extends EventTarget {
    constructor(url) {
      super();
      this.url = String(url);
      this.onmessage = null;
      this.onerror = null;
      this.frame = document.createElement("iframe");
      this.frame.hidden = true;
      document.body.appendChild(this.frame);
      var self = this;
      this.relay = function (event) {
        if (event.source !== self.frame.contentWindow) {
          return;
        }
        var message = new MessageEvent("message", { data: event.data });
        self.dispatchEvent(message);
        if (self.onmessage) {
          self.onmessage(message);
        }
      };
      window.addEventListener("message", this.relay);
      var inner = this.frame.contentWindow.document;
      inner.open();
      inner.write(
        "<html><body><script>postMessage=" + workerPost + ";importScripts=" + workerImport + ";<\/script>" +
          "<script src=\"" + this.url + "\"><\/script></body></html>"
      );
      inner.close();
      this.ready = new Promise(function (resolve) {
        self.frame.contentWindow.addEventListener("load", resolve);
      });
    }

    postMessage(data) {
      var frame = this.frame;
      this.ready.then(function () {
        frame.contentWindow.dispatchEvent(new MessageEvent("message", { data: structuredClone(data) }));
      });
    }

    terminate() {
      window.removeEventListener("message", this.relay);
      this.frame.remove();
    }
  }

  window.Worker = FileWorker;
})();
