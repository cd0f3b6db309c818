/* trialmon: keyboard access for the parts Dash and Plotly draw themselves.

   1. Dash 4's dcc.Dropdown puts an aria-hidden helper <input> in the tab order and
      takes its visible <button> out of it; the button becomes the tab stop instead
      (labelled by the page's <label for=...>), the hidden helper leaves the order.
   2. dcc.Tabs draws plain <div>s: they get the ARIA tabs pattern (role tablist/tab/
      tabpanel, aria-selected, aria-controls, one tab stop, arrow keys/Home/End move
      and select, Enter/Space select).
   3. Plotly's toolbar buttons are <a> without href or name: they get role=button, a
      name from their (translated) title, a tab stop and Enter/Space.
   Everything is re-applied after Dash or Plotly redraw (one pass per animation frame). */
(function () {
  function set(el, name, value) {
    if (el.getAttribute(name) !== value) { el.setAttribute(name, value); }
  }

  function dropdowns(root) {
    root.querySelectorAll('.dash-dropdown-focus-target').forEach(function (el) {
      set(el, 'tabindex', '-1');
    });
    root.querySelectorAll('button.dash-dropdown').forEach(function (el) {
      if (!el.disabled) { set(el, 'tabindex', '0'); }
    });
  }

  function onTabKey(event) {
    var tab = event.currentTarget;
    var tabs = Array.prototype.slice.call(tab.parentNode.querySelectorAll(':scope > .tab'));
    var i = tabs.indexOf(tab), next = null;
    switch (event.key) {
      case 'ArrowRight': case 'ArrowDown': next = tabs[(i + 1) % tabs.length]; break;
      case 'ArrowLeft': case 'ArrowUp': next = tabs[(i - 1 + tabs.length) % tabs.length]; break;
      case 'Home': next = tabs[0]; break;
      case 'End': next = tabs[tabs.length - 1]; break;
      case 'Enter': case ' ': tab.click(); event.preventDefault(); return;
      default: return;
    }
    event.preventDefault();
    next.focus();
    next.click();
  }

  function tabs(root) {
    root.querySelectorAll('.tab-parent').forEach(function (parent) {
      var list = parent.querySelector(':scope > .tab-container');
      var panel = parent.querySelector(':scope > .tab-content');
      if (!list) { return; }
      var base = parent.id || 'tabs';
      set(list, 'role', 'tablist');
      var selected = null;
      list.querySelectorAll(':scope > .tab').forEach(function (tab, i) {
        if (!tab.id) { tab.id = base + '-tab-' + i; }
        var on = tab.classList.contains('tab--selected');
        set(tab, 'role', 'tab');
        set(tab, 'aria-selected', on ? 'true' : 'false');
        set(tab, 'tabindex', on ? '0' : '-1');
        set(tab, 'aria-controls', base + '-panel');
        if (on) { selected = tab; }
        if (!tab.dataset.tmKeys) {
          tab.dataset.tmKeys = '1';
          tab.addEventListener('keydown', onTabKey);
        }
      });
      if (panel) {
        if (panel.id !== base + '-panel') { panel.id = base + '-panel'; }
        set(panel, 'role', 'tabpanel');
        if (selected) { set(panel, 'aria-labelledby', selected.id); }
      }
    });
  }

  function modebars(root) {
    root.querySelectorAll('.modebar-btn').forEach(function (btn) {
      var title = btn.getAttribute('data-title') || '';
      set(btn, 'role', 'button');
      set(btn, 'tabindex', '0');
      if (title) { set(btn, 'aria-label', title); }
      if (!btn.dataset.tmKeys) {
        btn.dataset.tmKeys = '1';
        btn.addEventListener('keydown', function (event) {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            btn.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}));
          }
        });
      }
    });
  }

  var scheduled = false;
  function fixAll() {
    scheduled = false;
    dropdowns(document);
    tabs(document);
    modebars(document);
  }
  function schedule() {
    if (!scheduled) { scheduled = true; window.requestAnimationFrame(fixAll); }
  }
  new MutationObserver(schedule).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ['class', 'tabindex']});
  document.addEventListener('DOMContentLoaded', fixAll);
})();
