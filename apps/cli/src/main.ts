console.log('dptrain');
