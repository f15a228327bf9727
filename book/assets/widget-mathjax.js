/*
 * MathJax 2's MathJax.Hub.Queue for the widget manager, on top of MathJax 3.
 *
 * The vendored @jupyter-widgets/html-manager (widgets/embed.js, kept unmodified so that
 * scripts/vendor_js.sh can refresh it) typesets the outputs of a widget with the MathJax 2
 * call MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]) whenever window.MathJax exists.
 * The book loads MathJax 3, which has no Hub, so every page with widgets threw
 * "Cannot read properties of undefined (reading 'Queue')". This file gives whatever object
 * window.MathJax is (the page's configuration first, then MathJax 3 itself, which replaces
 * it when it loads) a non-enumerable Hub whose Queue typesets the elements with MathJax 3's
 * typesetPromise once MathJax has started. Before that, nothing needs doing: MathJax 3
 * typesets the whole page when it starts. It must load before embed.js renders widgets;
 * _config.yml lists it in html_js_files.
 */
(function () {
  "use strict";

  function queue() {
    var mathjax = window.MathJax;
    var elements = [];
    for (var i = 0; i < arguments.length; i++) {
      var job = arguments[i];
      if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
        elements.push(job[2]);
      }
    }
    if (!elements.length || !mathjax || typeof mathjax.typesetPromise !== "function") {
      return Promise.resolve();
    }
    var started = (mathjax.startup && mathjax.startup.promise) || Promise.resolve();
    return started.then(function () {
      return mathjax.typesetPromise(elements);
    });
  }

  var hub = { Queue: queue };

  function attach(mathjax) {
    if (mathjax && typeof mathjax === "object" && !mathjax.Hub) {
      Object.defineProperty(mathjax, "Hub", { value: hub, configurable: true, writable: true });
    }
  }

  var current = window.MathJax;
  attach(current);
  try {
    Object.defineProperty(window, "MathJax", {
      configurable: true,
      enumerable: true,
      get: function () {
        return current;
      },
      set: function (value) {
        current = value;
        attach(value);
      },
    });
  } catch (err) {
    // window.MathJax was declared with var and cannot be redefined: Hub stays on the object present now
  }
})();
