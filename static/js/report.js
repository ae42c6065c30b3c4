/* The report wizard's live figures, computed exactly as the server does (reports.expressions):
   累计同比增长 % = (本年1-本月 − 上年1-本月) / |上年1-本月| × 100, rounded half-up to 2 places,
   blank when either is empty or the base is 0; 期末库存量 = 生产量(1-本月) − 销售量(1-本月).
   Decimal arithmetic on BigInt, so that 1.005 rounds as the server rounds it. */
(function () {
  "use strict";

  function parse(text) {
    var m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(String(text).trim().replace(/,/g, ""));
    if (!m || (m[2] === "" && !m[3])) return null;
    var frac = m[3] || "";
    return { n: BigInt(m[1] + (m[2] || "0") + frac), scale: frac.length };
  }

  function scaled(a, scale) {
    return a.n * BigInt(10) ** BigInt(scale - a.scale);
  }

  function digits(abs, scale) {
    var s = abs.toString().padStart(scale + 1, "0");
    return scale ? s.slice(0, -scale) + "." + s.slice(-scale) : s;
  }

  function growth(ytdText, baseText) {
    var a = parse(ytdText), b = parse(baseText);
    if (!a || !b || b.n === BigInt(0)) return "";
    var scale = Math.max(a.scale, b.scale);
    var x = scaled(a, scale), y = scaled(b, scale);
    var num = (x - y) * BigInt(10000), den = y < 0 ? -y : y;
    var neg = num < 0, abs = neg ? -num : num;
    var q = (BigInt(2) * abs + den) / (BigInt(2) * den);
    return (neg ? "-" : "") + digits(q, 2) + "%";
  }

  function difference(aText, bText) {
    var a = parse(aText), b = parse(bText);
    if (!a || !b) return "";
    var scale = Math.max(a.scale, b.scale);
    var d = scaled(a, scale) - scaled(b, scale);
    var text = digits(d < 0 ? -d : d, scale);
    if (text.indexOf(".") >= 0) text = text.replace(/0+$/, "").replace(/\.$/, "");
    return (d < 0 ? "-" : "") + text;
  }

  function updateGrowth(row) {
    var ytd = row.querySelector('[data-column="ytd"]');
    var base = row.querySelector('[data-column="last_year_ytd"]');
    var cell = row.querySelector("[data-growth]");
    if (ytd && base && cell) cell.textContent = growth(ytd.value, base.value);
  }

  function updateStock(product) {
    var produced = product.querySelector('[data-stock="produced"]');
    var sold = product.querySelector('[data-stock="sold"]');
    var cell = product.querySelector("[data-stock-total]");
    if (produced && sold && cell) cell.textContent = difference(produced.value, sold.value);
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    var row = target.closest("tr[data-indicator]");
    if (row) updateGrowth(row);
    var product = target.closest("[data-product]");
    if (product) updateStock(product);
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element && event.target.closest("[data-remove-product]");
    if (button) button.closest("[data-product]").remove();
  });

  window.smeReport = { growth: growth, difference: difference };
})();
