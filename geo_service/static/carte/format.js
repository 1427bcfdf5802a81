// Numbers, amounts and dates the French way, as the server writes them (geo_service.formatting, maps/pages.py).
export const number = new Intl.NumberFormat("fr-FR");
export const decimal = new Intl.NumberFormat("fr-FR", {minimumFractionDigits: 1, maximumFractionDigits: 1});

// 31/12/2025 from 2025-12-31 (any other text is shown as it is)
export function frenchDate(iso) {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return found ? found[3] + "/" + found[2] + "/" + found[1] : String(iso);
}

// 120 000 € (cents only when there are some: 1 234,50 €)
export function euros(amount) {
  const digits = Number.isInteger(amount) ? 0 : 2;
  return new Intl.NumberFormat("fr-FR", {minimumFractionDigits: digits, maximumFractionDigits: digits})
    .format(amount) + "\u00a0€";
}

export function durationText(years) {
  return years == null ? "non renseignée" : number.format(years) + (years > 1 ? " ans" : " an");
}

// ':' and ',' may stand as they are in a query string: links stay readable (simuler=epci:2000…,commune:…)
export function readable(query) {
  return query.replace(/%3A/gi, ":").replace(/%2C/gi, ",");
}
