# Shared by the bench/*/run.sh scripts: times cordon against a peer tool.
#
# race NAME : runs "${PEER[@]}" and "${CORDON[@]}" alternately $RUNS times,
#   stdout to $OUT/NAME.out and $OUT/cordon.out, stops if the two outputs
#   differ, prints each run (with `describe FILE` if the caller defines it),
#   the median wall time of each and the ratio peer / cordon.

# time_run OUTFILE CMD... : prints the wall seconds of CMD, its stdout in
# OUTFILE. Exit status 1 is not a failure (grep-like tools: nothing found).
time_run() {
  local out=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >"$out" || [ $? -eq 1 ]
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# timed_step NAME BINARY ARGS...: runs `BINARY --db $DB ARGS` $RUNS times
# (default 1) under GNU time and prints the medians of wall seconds, CPU
# seconds (user + system) and peak RSS; an argument @RUN@ is replaced by
# the run's number (1, 2, ...). Output goes to $OUT/NAME.out and .err.
timed_step() {
  local name=$1 bin=$2; shift 2
  local walls=() cpus=() rss=() i wall user sys kib
  for i in $(seq "${RUNS:-1}"); do
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time" "$bin" --db "$DB" "${@//@RUN@/$i}" >"$OUT/$name.out" 2>"$OUT/$name.err"
    read -r wall user sys kib <"$OUT/time"
    walls+=("$wall"); cpus+=("$(echo "$user + $sys" | bc)"); rss+=("$kib")
  done
  printf '%-28s wall %7.2f s  cpu %7.2f s  peak RSS %6d MB\n' "$name" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
    "$(( $(printf '%s\n' "${rss[@]}" | median | cut -d. -f1) / 1024 ))"
}

race() {
  local name=$1 i p_med c_med
  local p_times=() c_times=()
  echo "$name: ${PEER[*]}"
  echo "cordon: ${CORDON[*]}"
  for i in $(seq "$RUNS"); do
    p_times+=("$(time_run "$OUT/$name.out" "${PEER[@]}")")
    c_times+=("$(time_run "$OUT/cordon.out" "${CORDON[@]}")")
    if ! cmp -s "$OUT/$name.out" "$OUT/cordon.out"; then
      echo "OUTPUT MISMATCH between $OUT/$name.out and $OUT/cordon.out" >&2
      exit 1
    fi
    echo "run $i: $name ${p_times[-1]}s  cordon ${c_times[-1]}s  ($(describe "$OUT/cordon.out"))"
  done
  p_med=$(printf '%s\n' "${p_times[@]}" | median)
  c_med=$(printf '%s\n' "${c_times[@]}" | median)
  echo "median $name: ${p_med}s"
  echo "median cordon: ${c_med}s"
  echo "ratio ($name / cordon): $(echo "scale=2; $p_med / $c_med" | bc)x"
}

# describe FILE: what a run produced; callers may redefine it.
describe() { echo "$(wc -l <"$1") lines of output"; }

# public_v4_list N: N public IPv4 addresses, one a line, always the same
# (MINSTD, fixed seed; bench/core and bench/warninglists share them).
public_v4_list() {
  awk -v n="$1" 'BEGIN {
    split("23 45 46 51 62 77 80 91 93 95 103 109 141 176 185 193 194 195 212 213", first, " ");
    # MINSTD: its products stay exact in doubles; take its high bits.
    x = 20241201;
    for (i = 0; i < n; i++) {
      x = (x * 48271) % 2147483647; a = first[1 + int(x / 8388608) % 20];
      x = (x * 48271) % 2147483647; b = int(x / 8388608);
      x = (x * 48271) % 2147483647; c = int(x / 8388608);
      x = (x * 48271) % 2147483647; d = 1 + int(x / 8388608) % 254;
      print a "." b "." c "." d;
    }
  }'
}

# scale_feeds N DIR : the deterministic feeds of bench/scale and
# bench/postgres: N lines (85% IPv4, 10% URLs, 5% CIDRs) in
# DIR/partner{0,1,2}.txt, line i going to partner i % 3; MINSTD (fixed seed)
# picks the addresses, so every run stores the same indicators.
scale_feeds() {
  awk -v n="$1" -v dir="$2" 'BEGIN {
    x = 20241201;
    for (i = 0; i < n; i++) {
      x = (x * 48271) % 2147483647; a = 1 + int(x / 8388608) % 223;
      x = (x * 48271) % 2147483647; b = int(x / 8388608);
      x = (x * 48271) % 2147483647; c = int(x / 8388608);
      x = (x * 48271) % 2147483647; d = 1 + int(x / 8388608) % 254;
      if (a == 10 || a == 127) a = 45;
      r = i % 20;
      if (r < 17) line = a "." b "." c "." d;
      else if (r < 19) line = "http://host" i ".example" (i % 97) ".com/login/" d;
      else line = a "." b "." c ".0/24";
      print line > (dir "/partner" (i % 3) ".txt");
    }
  }'
}
