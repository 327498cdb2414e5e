// Small progressive enhancement: every page works without it.
(function () {
  'use strict';
  var lang = document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
  function span(ms) {
    var minutes = Math.floor(ms / 60000);
    var d = Math.floor(minutes / 1440);
    var h = Math.floor((minutes % 1440) / 60);
    var m = minutes % 60;
    if (lang === 'en')
      return d > 0 ? d + ' d ' + h + ' h' : h > 0 ? h + ' h ' + m + ' min' : m + ' min';
    return d > 0 ? d + '天' + h + '小时' : h > 0 ? h + '小时' + m + '分' : m + '分钟';
  }
  // SLA countdowns tick every half minute; the colour follows the time left.
  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-due]').forEach(function (el) {
      var left = Date.parse(el.getAttribute('data-due')) - now;
      if (isNaN(left)) return;
      var text =
        left <= 0
          ? (lang === 'en' ? 'overdue by ' : '已超时') + span(-left)
          : (lang === 'en' ? 'due in ' : '剩余') + span(left);
      el.textContent = text;
      var urgency =
        left <= 0 ? 'overdue' : left <= 7200000 ? 'urgent' : left <= 86400000 ? 'soon' : 'ok';
      el.className = 'sla sla-' + urgency;
    });
  }
  setInterval(tick, 30000);
  // Forms that ask for confirmation (publish, retire, activate).
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });
  // A file input that fills a textarea (CSV import, YAML upload) without a multipart upload.
  document.querySelectorAll('input[type=file][data-fill]').forEach(function (input) {
    input.addEventListener('change', function () {
      var target = document.getElementById(input.getAttribute('data-fill'));
      var file = input.files && input.files[0];
      if (!target || !file) return;
      var reader = new FileReader();
      reader.onload = function () {
        target.value = String(reader.result);
      };
      reader.readAsText(file);
    });
  });
  // Live sections (the roll-call) reload themselves while the page is open.
  document.querySelectorAll('[data-refresh]').forEach(function (el) {
    var seconds = Number(el.getAttribute('data-refresh')) || 10;
    setInterval(function () {
      fetch(window.location.href, { credentials: 'same-origin' })
        .then(function (r) {
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var fresh = doc.getElementById(el.id);
          if (fresh) el.innerHTML = fresh.innerHTML;
        })
        .catch(function () {});
    }, seconds * 1000);
  });
  // 签到: the check-in button asks the phone for its position (navigator.geolocation) and puts
  // it in the form's hidden fields, sent with the completion or report-in; the status line says
  // what happened, and why not when the phone refuses.
  document.querySelectorAll('[data-check-in]').forEach(function (box) {
    var button = box.querySelector('[data-check-in-button]');
    var status = box.querySelector('[data-check-in-status]');
    if (!button || !status) return;
    function set(name, value) {
      var input = box.querySelector('input[name=' + name + ']');
      if (input) input.value = value;
    }
    if (!navigator.geolocation) {
      status.textContent = status.getAttribute('data-msg-unsupported');
      return;
    }
    button.hidden = false;
    button.addEventListener('click', function () {
      button.disabled = true;
      status.className = 'check-in-status';
      status.textContent = button.getAttribute('data-msg-locating');
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          set('checkInLat', pos.coords.latitude.toFixed(6));
          set('checkInLng', pos.coords.longitude.toFixed(6));
          set('checkInAccuracy', String(Math.round(pos.coords.accuracy)));
          set('checkInAt', new Date(pos.timestamp || Date.now()).toISOString());
          status.className = 'check-in-status check-in-ok';
          status.textContent = button
            .getAttribute('data-msg-done')
            .replace('{m}', String(Math.round(pos.coords.accuracy)));
          button.textContent = button.getAttribute('data-msg-retry');
          button.disabled = false;
        },
        function (err) {
          var key =
            err.code === 1
              ? 'data-msg-denied'
              : err.code === 3
                ? 'data-msg-timeout'
                : 'data-msg-unavailable';
          status.className = 'check-in-status error';
          status.textContent = button.getAttribute(key);
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
      );
    });
  });
  // "Use my location" fills the map point fields when the browser can tell.
  document.querySelectorAll('[data-locate]').forEach(function (button) {
    button.hidden = !navigator.geolocation;
    button.addEventListener('click', function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var lat = document.querySelector('[name=lat]');
        var lng = document.querySelector('[name=long]');
        if (lat) lat.value = pos.coords.latitude.toFixed(6);
        if (lng) lng.value = pos.coords.longitude.toFixed(6);
      });
    });
  });
})();
