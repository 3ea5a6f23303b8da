#!/usr/bin/env bash
# Renders the pictures of the documents shown in the README: a shop with its legal identity,
# a business and a consumer who do not pay, the ladder run day by day to the formal notice and
# the court file, then page 1 of each PDF at 60 dpi. Every date is fixed, so the pictures only
# change when the documents do. Needs pdftoppm (poppler-utils) and `cargo build -p ardoise-cli`.
set -euo pipefail
cd "$(dirname "$0")"
ardoise="${ARDOISE:-${CARGO_TARGET_DIR:-../../target}/debug/ardoise}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
a() { "$ardoise" --db "$work/shop.db" "$@" >/dev/null; }
a shop set --name "Épicerie du Marché" --phone "04 90 92 12 34" --email bonjour@epicerie-du-marche.fr \
    --address "12 place de la République, 13210 Saint-Rémy-de-Provence" \
    --payment-url "https://pay.epicerie-du-marche.fr/{customer_ref}?amount={amount}" \
    --legal-name "Épicerie du Marché SARL" --legal-form SARL --siret "732 829 320 00074" \
    --vat-number FR44732829320 --rcs-city Tarascon \
    --legal-address '12 place de la République\n13210 Saint-Rémy-de-Provence' \
    --representative "Claire Martin" --representative-role gérante \
    --iban "FR76 3000 6000 0112 3456 7890 189" --date 2024-01-01
a customer add --ref B1 --name "Boulangerie Martin" --kind business --terms 30 \
    --address "5 rue des Lilas, 13210 Saint-Rémy-de-Provence" --date 2024-01-01
a customer add --ref P1 --name "Hélène Dupré" --terms 30 --email p1@example.fr --consent-email true \
    --address "8 chemin des Oliviers, 13150 Tarascon" --date 2024-01-01
a sale --customer B1 --amount 1000 --invoice-ref F-2024-051 --date 2024-05-16
a sale --customer B1 --amount 234.56 --invoice-ref F-2024-058 --date 2024-05-25
a pay --customer B1 --amount 300 --invoice F-2024-051 --date 2024-06-28
a sale --customer P1 --amount 86.40 --invoice-ref F-2024-060 --date 2024-06-01
a pay --customer P1 --amount 20 --date 2024-06-15
a sale --customer P1 --amount 42.15 --invoice-ref F-2024-071 --date 2024-06-22
day=2024-06-16
while [[ "$day" < 2024-08-15 ]]; do
    a dunning run --as-of "$day"
    for id in $("$ardoise" --db "$work/shop.db" --json reminders list --state queued | grep -o '"id": *"[^"]*"' | cut -d'"' -f4); do
        a reminders mark "$id" --state sent --date "$day"
    done
    day=$(date -d "$day + 1 day" +%F)
done
id_of() { "$ardoise" --db "$work/shop.db" --json reminders list --customer B1 | python3 -c "
import json, sys
print(next(r['id'] for r in json.load(sys.stdin) if r['kind'] == '$1'))"; }
a reminders pdf "$(id_of formal_notice)" --out "$work/formal-notice.pdf" --date 2024-07-25
a reminders pdf "$(id_of court_file)" --out "$work/court-file.pdf" --date 2024-08-14
a statement --customer P1 --from 2024-06-01 --to 2024-07-31 --pdf "$work/statement.pdf" --date 2024-08-01
for doc in formal-notice court-file statement; do
    pdftoppm -png -r 60 -singlefile "$work/$doc.pdf" "$doc"
done
