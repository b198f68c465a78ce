/* 上传检查: drag and drop, one XHR per file to POST /api/reports (progress per file),
   at most three at a time; each finished file links to its report card.  File names
   are put in the page as text (textContent), never as HTML. */
(function () {
  "use strict";
  var input = document.getElementById("files");
  var zone = document.getElementById("dropzone");
  var form = document.getElementById("upload-form");
  if (!input || !zone || !form) { return; }
  var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10) || 0;
  var maxMb = input.getAttribute("data-max-mb");
  var queueCard = document.getElementById("queue-card");
  var queue = document.getElementById("queue");
  var summary = document.getElementById("queue-summary");
  var pending = [], running = 0, total = 0, finished = 0, failed = 0, lastOk = null, batchSize = 0;
  var LIMIT = 3;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function updateSummary() {
    summary.textContent = "完成 " + finished + " / " + total + (failed ? "，失败 " + failed : "");
  }

  function add(files) {
    if (!files || !files.length) { return; }
    queueCard.hidden = false;
    batchSize = files.length;
    for (var i = 0; i < files.length; i++) {
      var f = files[i];
      var li = el("li", "qitem");
      li.appendChild(el("span", "qname", f.name));
      var bar = el("span", "qbar"); var fill = el("span"); bar.appendChild(fill); li.appendChild(bar);
      var msg = el("span", "qmsg", "等待上传…"); li.appendChild(msg);
      queue.appendChild(li);
      total++;
      var item = { file: f, li: li, fill: fill, msg: msg };
      if (maxBytes && f.size > maxBytes) {
        fail(item, "文件过大：超过上限 " + maxMb + " MB，未上传");
        continue;
      }
      pending.push(item);
    }
    updateSummary();
    pump();
  }

  function fail(item, text) {
    item.li.className = "qitem err";
    item.msg.textContent = text;
    finished++; failed++;
    updateSummary();
  }

  function pump() {
    while (running < LIMIT && pending.length) { send(pending.shift()); }
  }

  function send(item) {
    running++;
    var xhr = new XMLHttpRequest();
    var rec = document.getElementById("received_on");
    xhr.open("POST", "/api/reports?filename=" + encodeURIComponent(item.file.name) +
             (rec && rec.value ? "&received_on=" + encodeURIComponent(rec.value) : ""));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", window.fazhiCsrf || "");
    xhr.setRequestHeader("Accept", "application/json");
    item.msg.textContent = "上传中…";
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) {
        var p = Math.round(ev.loaded / ev.total * 90);
        item.fill.style.width = p + "%";
        item.msg.textContent = ev.loaded < ev.total ? "上传中 " + Math.round(ev.loaded / ev.total * 100) + "%" : "分析中…";
      }
    };
    xhr.upload.onload = function () { item.fill.style.width = "90%"; item.msg.textContent = "分析中…"; };
    xhr.onload = function () {
      running--;
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status === 200 || xhr.status === 201) {
        item.li.className = "qitem done";
        item.fill.style.width = "100%";
        item.msg.textContent = "";
        var what = data.duplicate ? "已在库中（同一文件）" : "已入库";
        var bits = [what];
        if (data.n_errors) { bits.push("错误 " + data.n_errors); }
        if (data.n_warnings) { bits.push("警告 " + data.n_warnings); }
        if (data.score_total !== null && data.score_total !== undefined) { bits.push("总分 " + data.score_total); }
        item.msg.appendChild(document.createTextNode(bits.join(" · ")));
        var a = el("a", "card-link", "查看体检报告");
        a.href = "/reports/" + encodeURIComponent(data.id);
        item.msg.appendChild(a);
        finished++;
        lastOk = a.href;
      } else if (xhr.status === 401) {
        fail(item, "登录已过期，请刷新页面重新登录");
      } else {
        fail(item, (data && data.detail) ? String(data.detail) : "上传失败（HTTP " + xhr.status + "）");
        pump();
        return;
      }
      updateSummary();
      pump();
      if (finished === total && total === 1 && batchSize === 1 && lastOk && !failed) {
        window.location.assign(lastOk);  // one file: straight to its report card
      }
    };
    xhr.onerror = function () {
      running--;
      fail(item, "网络错误或文件过大，连接被中断");
      pump();
    };
    xhr.send(item.file);
  }

  input.addEventListener("change", function () { add(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function (ev) { ev.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (ev) { add(ev.dataTransfer && ev.dataTransfer.files); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); add(input.files); });
  // dropping a file elsewhere on the page must not navigate away
  window.addEventListener("dragover", function (ev) { ev.preventDefault(); });
  window.addEventListener("drop", function (ev) { ev.preventDefault(); });
})();
