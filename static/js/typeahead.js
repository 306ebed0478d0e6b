// Type-ahead for the header's search box: the WAI-ARIA combobox pattern (list autocomplete).
// Completions come from GET /search/suggest/?q= as the shopper types (debounced); Up/Down
// move through them, Enter opens the highlighted one, Escape closes the list. With nothing
// highlighted, Enter submits the search as the plain form does without this script.
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var MIN_LENGTH = 2;
  var KIND_NAMES = { category: "Category", brand: "Brand", product: "Product" };

  var form = document.querySelector("form[data-suggest-url]");
  var input = form && form.querySelector("input[name=q]");
  var listbox = form && document.getElementById("search-suggestions");
  var status = form && document.getElementById("search-suggestions-status");
  if (!input || !listbox || !status || !window.fetch) {
    return;
  }

  var suggestions = [];
  var active = -1;
  var timer = null;
  var pending = null;
  var shownFor = null; // the query the list shows

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listbox.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");

  function normalised(text) {
    return text.replace(/\s+/g, " ").trim();
  }

  function optionId(index) {
    return "search-suggestion-" + index;
  }

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    highlight(-1);
  }

  function open() {
    if (suggestions.length) {
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
  }

  function highlight(index, byMouse) {
    var previous = document.getElementById(optionId(active));
    if (previous) {
      previous.setAttribute("aria-selected", "false");
    }
    active = index;
    var option = document.getElementById(optionId(index));
    if (option) {
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      if (!byMouse) {
        option.scrollIntoView({ block: "nearest" });
      }
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function render(query, found) {
    suggestions = found;
    shownFor = query;
    active = -1;
    input.removeAttribute("aria-activedescendant");
    listbox.textContent = "";
    found.forEach(function (suggestion, index) {
      var option = document.createElement("li");
      option.id = optionId(index);
      option.className = "typeahead-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      var label = document.createElement("span");
      label.className = "typeahead-label";
      label.textContent = suggestion.label;
      var kind = document.createElement("span");
      kind.className = "typeahead-kind";
      kind.textContent = KIND_NAMES[suggestion.kind] || "";
      option.append(label, " ", kind);
      listbox.append(option);
    });
    status.textContent = found.length
      ? found.length + (found.length === 1 ? " suggestion" : " suggestions") + " available; use the up and down arrows to choose."
      : "";
    if (found.length) {
      open();
    } else {
      close();
    }
  }

  function request(query) {
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    var url = form.dataset.suggestUrl + "?q=" + encodeURIComponent(query);
    fetch(url, { headers: { Accept: "application/json" }, signal: pending.signal })
      .then(function (response) {
        return response.ok ? response.json() : { query: query, suggestions: [] };
      })
      .then(function (data) {
        // An answer to an older query (the shopper typed on) is dropped.
        if (normalised(input.value) === query && document.activeElement === input) {
          render(query, data.suggestions || []);
        }
      })
      .catch(function () {
        // Aborted or offline: the box stays a plain search box.
      });
  }

  function go(index) {
    window.location.assign(suggestions[index].url);
  }

  input.addEventListener("input", function () {
    var query = normalised(input.value);
    clearTimeout(timer);
    if (query.length < MIN_LENGTH) {
      render(query, []);
      return;
    }
    if (query === shownFor) {
      open();
      return;
    }
    timer = setTimeout(function () {
      request(query);
    }, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", function (event) {
    var expanded = !listbox.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!suggestions.length) {
        return;
      }
      event.preventDefault();
      if (!expanded) {
        open();
        highlight(event.key === "ArrowDown" ? 0 : suggestions.length - 1);
        return;
      }
      var step = event.key === "ArrowDown" ? 1 : -1;
      // Past either end the highlight returns to the box itself (-1).
      var next = active + step;
      if (next >= suggestions.length) {
        next = -1;
      } else if (next < -1) {
        next = suggestions.length - 1;
      }
      highlight(next);
    } else if (event.key === "Enter" && expanded && active >= 0) {
      event.preventDefault();
      go(active);
    } else if (event.key === "Escape" && expanded) {
      event.preventDefault();
      close();
    }
  });

  // mousedown would move focus out of the box (and close the list) before the click lands.
  listbox.addEventListener("mousedown", function (event) {
    event.preventDefault();
  });
  listbox.addEventListener("click", function (event) {
    var option = event.target.closest("[role=option]");
    if (option) {
      go(Number(option.id.slice(optionId("").length)));
    }
  });
  listbox.addEventListener("mousemove", function (event) {
    var option = event.target.closest("[role=option]");
    if (option && option.id !== optionId(active)) {
      highlight(Number(option.id.slice(optionId("").length)), true);
    }
  });

  input.addEventListener("blur", close);
  input.addEventListener("focus", function () {
    if (normalised(input.value) === shownFor) {
      open();
    }
  });
})();
