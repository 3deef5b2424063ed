#!/usr/bin/env bash
# Writes the seed corpora under fuzz/corpus/ from the repository's own files: the shipped
# mappings and schemas, the expressions in them, and every golden case (input and recorded
# answers). Run from anywhere; safe to run again (it only adds files).
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz")"
corpus="$fuzz/corpus"
mkdir -p "$corpus"/{query_string,mapping_load,template_expr,plan_run}

byte() { printf "\\x$(printf %02x "$1")"; }

# query_string: the shapes clients send, and malformed ones.
n=0
for q in 'integrated_account_id=a1&remote_query[perform_as]=u1&remote_query[x][y]=2' \
    'truto_exclude_fields[]=id&truto_exclude_fields[]=name' 'a=1&a=2&a[]=3' 'a[][b]=1&a[][b]=2' \
    'remote_query%5Bperform_as%5D=u%201&q=a+b' 'a[b=1' '[b]=1' 'a[b]c=1' 'a=1&a[b]=2' \
    'job_id=..&application_source=lead' 'x[a][b][c][d][e][f][g][h][i]=deep'; do
    printf '%s' "$q" >"$corpus/query_string/seed-$((n++))"
done

# mapping_load: byte 0 picks the file to replace, in the loader's order (mappings, then schemas,
# each sorted by name); the seed is that file unchanged.
i=0
for dir in mappings schemas; do
    while IFS= read -r name; do
        { byte "$i"; cat "$root/$dir/$name"; } >"$corpus/mapping_load/${name//\//_}"
        i=$((i + 1))
    done < <(cd "$root/$dir" && find . -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) \
        ! -name '*.schema.json' | sed 's|^\./||' | LC_ALL=C sort)
done

# template_expr: every `{{ … }}` of the shipped mappings, in every place of the fuzz mapping.
n=0
while IFS= read -r expression; do
    for place in 0 1 2 3 4 5 6 7 8 9 10 11; do
        { byte "$place"; printf '%s' "$expression"; } >"$corpus/template_expr/seed-$n-$place"
    done
    n=$((n + 1))
done < <(grep -oh '{{[^}]*}}' "$root"/mappings/*/*.yaml "$root"/mappings/*/*/*.yaml | sort -u)

# plan_run: byte 0 picks the plan (integrations in name order), then the golden input and its
# recorded answers, NUL-separated.
plan=0
for integration in $(cd "$root/tests/golden" && ls | LC_ALL=C sort); do
    for case in "$root/tests/golden/$integration"/*/*/*/*/; do
        [ -f "$case/input.json" ] || continue
        {
            byte "$plan"; byte 0; cat "$case/input.json"
            for answer in "$case"/*.response.json; do
                [ -f "$answer" ] && { byte 0; cat "$answer"; }
            done
        } >"$corpus/plan_run/$integration-$(basename "$case")"
    done
    plan=$((plan + 1))
done
echo "seeded $(find "$corpus" -type f | wc -l) files under $corpus"
