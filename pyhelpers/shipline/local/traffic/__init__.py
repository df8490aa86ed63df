"""`shipline local traffic`: real requests at a planned rate, reported per revision of the app that answered.

target.py is where requests may go (a loopback URL), load.py sends them, summary.py tells what came back,
command.py is the command (progress line, verdict, text).
"""
