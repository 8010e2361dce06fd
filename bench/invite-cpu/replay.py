# The batch of one 50-address invite (dumped by `MODE=dump node bench/invite-cpu.mjs`) in SQLite
# alone: each statement's CPU time, in a transaction rolled back after each call. The floor of the
# SQL work, without D1's framing, its file writes or the Worker.
import json, sqlite3, time, sys
seed = json.load(open("bench/results/invite-cpu.seed.json"))
stmts = json.load(open("bench/results/invite-cpu.statements.json"))
db = sqlite3.connect(":memory:", isolation_level=None)
for q in seed["migrations"]:
    db.executescript(q)
for q in seed["seed"]:
    db.execute(q)
print("invites", db.execute("select count(*) from invites").fetchone())
N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
times = [0.0] * len(stmts)
for _ in range(N):
    db.execute("BEGIN")
    for k, s in enumerate(stmts):
        t = time.process_time()
        cur = db.execute(s["sql"], s["params"])
        rows = cur.fetchall()
        times[k] += time.process_time() - t
    db.execute("ROLLBACK")
total = sum(times)
for k, s in enumerate(stmts):
    print(f"{times[k]/N*1000:7.3f} ms  {' '.join(s['sql'].split())[:110]}")
print(f"{total/N*1000:7.3f} ms total per call (SQLite {sqlite3.sqlite_version}, Python driver included)")
