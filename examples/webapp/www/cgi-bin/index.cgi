#!/bin/sh
# `/` of the sample service: busybox httpd runs this for a directory without an index page (see httpd.conf):
# it sends www/index.html. Every answer names the revision that gave it in an X-Revision header. SAMPLE_FAILURE (the
# image's FAILURE build argument, checked by /bin/serve) may make it fail on purpose:
#   errors-share:PERCENT   HTTP 500 on that share of the requests, at random
#   slow:MILLISECONDS      every answer that much later
case "$SAMPLE_FAILURE" in
  errors-share:*)
    if [ $((RANDOM % 100)) -lt "${SAMPLE_FAILURE#*:}" ]; then
      printf 'HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\nX-Revision: %s\r\n\r\n' "$APP_REVISION"
      echo "failing on purpose ($SAMPLE_FAILURE)"
      exit 0
    fi ;;
  slow:*) usleep $((${SAMPLE_FAILURE#*:} * 1000)) ;;
esac
printf 'Content-Type: text/html\r\nX-Revision: %s\r\n\r\n' "$APP_REVISION"
exec cat /www/index.html
