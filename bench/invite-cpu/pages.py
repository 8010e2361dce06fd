# Pages one 50-address invite writes: the dumped batch (`MODE=dump node bench/invite-cpu.mjs`)
# replayed with fresh ids and addresses and COMMITTED, on a file database in WAL mode (as D1's
# local SQLite), on the full bench seed: WAL bytes appended per call = the pages the commit writes.
import json, os, random, re, sqlite3, string, sys, tempfile, time

seed = json.load(open("bench/results/invite-cpu.seed.json"))
stmts = json.load(open("bench/results/invite-cpu.statements.json"))
path = os.path.join(tempfile.mkdtemp(), "db.sqlite")
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA wal_autocheckpoint=0")
for q in seed["migrations"]:
    db.executescript(q)
for q in seed["seed_full"]:
    db.execute(q)
for index in filter(None, os.environ.get("DROP", "").split(",")):  # what-if: without this index
    db.execute(f"DROP INDEX {index}")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
page = db.execute("PRAGMA page_size").fetchone()[0]
alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100

def fresh(text, call):
    ids = {}
    def new_id(m):
        if os.environ.get("ORDERED"):  # time-ordered ids (what-if): new rows append at the b-trees' right edge
            return ids.setdefault(m.group(0), m.group(1) + f"zz{call:08d}{len(ids):04d}".ljust(26, "0"))
        return ids.setdefault(m.group(0), m.group(1) + "".join(random.choice(alphabet) for _ in range(26)))
    text = re.sub(r"\b(inv_|evt_)[0-9a-z]{26}\b", new_id, text)
    text = re.sub(r"\b[0-9a-f]{64}\b", lambda m: "%064x" % random.getrandbits(256), text)
    return text.replace("ndump-", f"n{call}x-")

wal = path + "-wal"
cpu = 0.0
grown = 0
for call in range(N):
    before = os.path.getsize(wal) if os.path.exists(wal) else 0
    batch = [(s["sql"], [fresh(p, call) if isinstance(p, str) else p for p in s["params"]]) for s in stmts]
    t = time.process_time()
    db.execute("BEGIN IMMEDIATE")
    for sql, params in batch:
        db.execute(sql, params).fetchall()
    db.execute("COMMIT")
    cpu += time.process_time() - t
    grown += os.path.getsize(wal) - before
print(f"{N} calls: {grown / N / 1024:.0f} KiB of WAL per call = {grown / N / (page + 24):.0f} pages of {page} B; "
      f"{cpu / N * 1000:.2f} ms CPU per call (SQLite {sqlite3.sqlite_version}, commits included)")
