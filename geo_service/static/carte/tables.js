// Sortable tables (a territory's communes): a button in each column's header sorts by it, the header says how
// (aria-sort). Each cell's data-valeur is what it sorts by: numbers as numbers, words the French way.
function sortTable(table, column, header) {
  const ascending = header.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("thead th").forEach((th) => th.removeAttribute("aria-sort"));
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const value = (row) => row.children[column].dataset.valeur;
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const numeric = !isNaN(parseFloat(x)) && !isNaN(parseFloat(y));
    const order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "fr");
    return ascending ? order : -order;
  });
  body.append(...rows);
}

export function setupSortableTables() {
  document.querySelectorAll("table.triable").forEach((table) => {
    table.querySelectorAll("thead button").forEach((button) => {
      button.addEventListener("click", () => sortTable(table, Number(button.dataset.colonne), button.closest("th")));
    });
  });
}
