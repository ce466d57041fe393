"""Writes CSV splits with planted defects for test/e2e/data_report.test.

train.csv (line 1 is the header, so example k is on line k + 2):
  30 distinct reviews on lines 2-31, labels 'great' x20 / 'other' x10, plus
  line 32: an exact copy of line 4 (same label),
  line 33: an exact copy of line 5 with the other label (a conflict),
  line 34: line 6 again in upper case with extra punctuation (near copy).
eval.csv: 10 reviews: lines 3 and 7 copy train lines 10 and 20 exactly,
  line 9 is train line 12 with different case and spacing; 6 'great'.
Usage: make_planted_data.py OUT_DIR [--int-labels | --unseen]
  --int-labels: labels 0/2 in train and 1 in two eval rows (in range, but
                never seen in training).
  --unseen: string labels, two eval rows say 'awful' and one 'meh'.
"""
import sys

out, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
words = ["crunchy", "sweet", "salty", "stale", "fresh", "bitter", "smooth",
         "spicy", "bland", "rich"]


def review(i):
    return f"review {i}: the {words[i % 10]} snack number {i} was {words[(i * 7) % 10]}"


def label(great):
    if mode == "--int-labels":
        return "2" if great else "0"
    return "great" if great else "other"


train = [(review(i), label(i < 20)) for i in range(30)]
train.append(train[2])                                   # line 32 = line 4
train.append((train[3][0], label(not (3 < 20))))          # line 33 = line 5, relabelled
train.append((train[4][0].upper().replace(":", " ;;"), train[4][1]))  # line 34 ~ line 6

evals = [(f"an unseen eval review {i} about {words[i]}", label(i < 6)) for i in range(10)]
evals[1] = train[8]                                        # eval line 3 = train line 10
evals[5] = train[18]                                       # eval line 7 = train line 20
evals[7] = ("  " + train[10][0].title() + "  ", train[10][1])  # eval line 9 ~ train line 12
if mode == "--int-labels":
    evals[2] = (evals[2][0], "1")
    evals[3] = (evals[3][0], "1")
if mode == "--unseen":
    evals[2] = (evals[2][0], "awful")
    evals[4] = (evals[4][0], "awful")
    evals[6] = (evals[6][0], "meh")

for name, rows in (("train.csv", train), ("eval.csv", evals)):
    with open(f"{out}/{name}", "w") as f:
        f.write("review,score\n")
        for text, lab in rows:
            f.write(f'"{text}",{lab}\n')
