// The store's own script (the search box's type-ahead is js/typeahead.js); pages work without it
// (CSP: script-src 'self', no inline handlers).
document.addEventListener("change", function (event) {
  // Sort selects submit their form as soon as a new order is picked.
  var select = event.target.closest && event.target.closest("select[data-autosubmit]");
  if (select && select.form) {
    select.form.submit();
  }
});
