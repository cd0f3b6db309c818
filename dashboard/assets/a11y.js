/* Dash 4's dropdown keeps a hidden helper input (aria-hidden) that can take focus;
   take it out of the tab order so keyboard and screen-reader users meet only the
   dropdown's own control. */
(function () {
  function fix(root) {
    root.querySelectorAll('.dash-dropdown-focus-target').forEach(function (el) {
      if (el.getAttribute('tabindex') !== '-1') { el.setAttribute('tabindex', '-1'); }
    });
  }
  new MutationObserver(function () { fix(document); })
    .observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener('DOMContentLoaded', function () { fix(document); });
})();
