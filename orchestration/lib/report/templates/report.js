// Draws every chart of the page (figures are JSON blocks beside their container) and makes tables sortable.
(function () {
  function draw() {
    document.querySelectorAll("div.chart[data-figure]").forEach(function (div) {
      var figure = JSON.parse(document.getElementById(div.dataset.figure).textContent);
      Plotly.newPlot(div, figure.data, figure.layout, {displaylogo: false, responsive: true});
    });
  }

  // Click a header to sort by it; click again to reverse. Cells sort by data-value (numbers) or their text.
  function sortable(table) {
    table.querySelectorAll("th").forEach(function (th, column) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var descending = th.getAttribute("aria-sort") !== "descending";
        table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var rows = Array.prototype.slice.call(body.rows);
        function key(row) {
          var cell = row.cells[column];
          var value = cell.dataset.value;
          if (value === undefined) return cell.textContent.trim().toLowerCase();
          return value === "" ? null : Number(value);
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (x === y) return 0;
          if (x === null) return 1;  // unknown values last, either way
          if (y === null) return -1;
          return (x < y ? -1 : 1) * (descending ? -1 : 1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    document.querySelectorAll("table.sortable").forEach(sortable);
  });
})();
