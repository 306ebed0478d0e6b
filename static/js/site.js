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
