/* Live disposition-rule results on the classification form.
 * On every change, the form's values go to the rules endpoint (GET, read-only), which
 * evaluates the rules on an unsaved copy of the case; the panel and the override-reason
 * fields follow the answer. Without JavaScript the results appear after a submit. */
(function () {
  'use strict';
  var form = document.querySelector('form[data-rules-url]');
  if (!form || form.dataset.rulesBound) { return; }
  form.dataset.rulesBound = '1';
  var panel = document.querySelector('[data-rules-panel]');
  var timer = null;
  var sequence = 0;

  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (typeof value === 'string' && key !== 'csrfmiddlewaretoken' && key.indexOf('override_') !== 0) {
        params.append(key, value);
      }
    });
    return params.toString();
  }

  function item(result) {
    var li = document.createElement('li');
    li.dataset.rule = result.rule;
    li.dataset.status = result.status;
    var chipWrap = document.createElement('span');
    var chip = document.createElement('span');
    chip.className = 'oc-chip oc-chip--' + result.status;
    chip.textContent = result.status_label;
    chipWrap.appendChild(chip);
    var title = document.createElement('span');
    title.className = 'oc-rule-title';
    title.textContent = result.title;
    var text = document.createElement('span');
    text.className = 'oc-rule-text';
    text.textContent = result.explanation;
    li.append(chipWrap, title, text);
    return li;
  }

  function show(data) {
    var list = panel.querySelector('[data-rules-list]');
    var emptyText = list.dataset.emptyText;
    list.replaceChildren();
    data.results.forEach(function (result) { list.appendChild(item(result)); });
    if (!data.results.length) {
      var li = document.createElement('li');
      li.className = 'oc-empty';
      li.dataset.rulesEmpty = '';
      li.textContent = emptyText;
      list.appendChild(li);
    }
    form.querySelectorAll('[data-override-rule]').forEach(function (el) {
      el.hidden = data.failed.indexOf(el.dataset.overrideRule) === -1;
    });
  }

  function refresh() {
    var mine = ++sequence;
    fetch(form.dataset.rulesUrl + '?' + query(), {
      headers: {'Accept': 'application/json'},
      credentials: 'same-origin',
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (data) {
      if (mine === sequence) { show(data); }
    }).catch(function () { /* keep the last results; the submit evaluates again */ });
  }

  form.addEventListener('change', function (event) {
    if (event.target && event.target.name && event.target.name.indexOf('override_') === 0) { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  });
})();
