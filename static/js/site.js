// The store's own script (the search box's type-ahead is js/typeahead.js); pages work without it
// (CSP: script-src 'self', no inline handlers).
document.addEventListener("change", function (event) {
  // Sort selects submit their form as soon as a new order is picked.
  var select = event.target.closest && event.target.closest("select[data-autosubmit]");
  if (select && select.form) {
    select.form.submit();
  }
});

// Listing filters (catalog/_facets.html): a <details> closed on phones, so the results come first,
// and open from 721px on (the CSS breakpoint), where they are the page's sidebar.
(function () {
  var wide = window.matchMedia("(min-width: 721px)");
  function sync() {
    document.querySelectorAll("details.filters").forEach(function (filters) {
      filters.open = wide.matches;
    });
  }
  sync();
  wide.addEventListener("change", sync);
})();

// --- cart and checkout (issue 18) ---
// A form with data-confirm (empty the cart, cancel an order) asks first. Without this script the
// server shows its own "Are you sure?" page; with it, OK sends the confirmation that page would.
document.addEventListener("submit", function (event) {
  var form = event.target.closest && event.target.closest("form[data-confirm]");
  if (!form) {
    return;
  }
  if (!window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
    return;
  }
  if (!form.querySelector("input[name=confirmed]")) {
    var confirmed = document.createElement("input");
    confirmed.type = "hidden";
    confirmed.name = "confirmed";
    confirmed.value = "yes";
    form.appendChild(confirmed);
  }
});

// The address form's region select (data-regions names the country select) offers only the chosen
// country's states, and hides itself for a country without any. Without the script it lists them all,
// grouped by country, and the server checks the pair.
(function () {
  function showRegions(region) {
    var country = region.form && region.form.elements[region.getAttribute("data-regions")];
    if (!country) {
      return;
    }
    var prefix = country.value + "-";
    var any = false;
    Array.prototype.forEach.call(region.querySelectorAll("optgroup"), function (group) {
      var match = !!country.value && !!group.querySelector('option[value^="' + prefix + '"]');
      group.hidden = !match;
      group.disabled = !match;
      any = any || match;
    });
    if (region.value && region.value.indexOf(prefix) !== 0) {
      region.value = "";
    }
    var field = region.closest("div");
    if (field) {
      field.classList.add("region-field");
      field.hidden = !any;
    }
  }
  function all() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-regions]"), showRegions);
  }
  document.addEventListener("change", function (event) {
    if (event.target.form && event.target.tagName === "SELECT") {
      Array.prototype.forEach.call(event.target.form.querySelectorAll("select[data-regions]"), function (region) {
        if (region.getAttribute("data-regions") === event.target.name) {
          showRegions(region);
        }
      });
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", all);
  } else {
    all();
  }
})();
