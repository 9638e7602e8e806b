"""A minimal SMTP server for fatalmailbatch: appends each message it receives to OUTFILE.

    fake_smtp.py PORT OUTFILE

Each message becomes `MAIL FROM:<...>`, `RCPT TO:<...>` lines, the DATA, and a line `.`.
"""
import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b'\r\n')
        self.wfile.flush()

    def handle(self):
        self.reply('220 localhost fake smtp')
        envelope = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode('utf-8', 'replace').rstrip('\r\n')
            verb = cmd.split(' ', 1)[0].upper()
            if verb in ('EHLO', 'HELO'):
                self.reply('250 localhost')
            elif verb in ('MAIL', 'RCPT'):
                envelope.append(cmd)
                self.reply('250 ok')
            elif verb == 'DATA':
                self.reply('354 go ahead')
                data = []
                while True:
                    dl = self.rfile.readline()
                    if not dl or dl in (b'.\r\n', b'.\n'):
                        break
                    data.append(dl.decode('utf-8', 'replace'))
                with open(self.server.outfile, 'a') as f:
                    f.write('\n'.join(envelope) + '\n' + ''.join(data) + '\n.\n')
                envelope = []
                self.reply('250 queued')
            elif verb == 'QUIT':
                self.reply('221 bye')
                return
            elif verb == 'RSET':
                envelope = []
                self.reply('250 ok')
            else:
                self.reply('250 ok')


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main(argv):
    srv = Server(('127.0.0.1', int(argv[1])), Handler)
    srv.outfile = argv[2]
    srv.serve_forever()


if __name__ == '__main__':
    main(sys.argv)
